import HTTPTypes
import Foundation
import Hummingbird
import OtterCore

/// `POST /rooms`, `GET /rooms/{roomId}`, `GET /rooms/{roomId}/ice-servers`.
struct RoomRoutes: Sendable {
    let config: ServerConfiguration
    let rooms: Rooms
    let secrets: ServerSecrets
    let auth: RequestAuth
    let metrics: ServerMetrics

    func register(on router: Router<some RequestContext>) {
        router.post("/rooms") { request, _ in try await self.create(request) }
        router.get("/rooms/:roomId") { request, context in
            let roomID = try context.parameters.require("roomId")
            let (_, room) = try await self.auth.requireRoomToken(request, roomID: roomID)
            return Response.json(["roomId": .string(room.id), "expiresAt": .number(Double(room.expiresAt)), "maxPeers": .number(Double(room.maxPeers))])
        }
        router.get("/rooms/:roomId/ice-servers") { request, context in
            let roomID = try context.parameters.require("roomId")
            _ = try await self.auth.requireRoomToken(request, roomID: roomID)
            return Response.json(self.iceServers(roomID: roomID))
        }
    }

    func create(_ request: Request) async throws -> Response {
        try auth.requireAPIKey(request)
        var request = request
        let created = try await rooms.create(Rooms.Request(body: try await request.jsonObjectBody()))
        let room = created.room
        metrics.roomsCreated.increment()
        return Response.json([
            "roomId": .string(room.id),
            "url": .string(created.url),
            "token": .string(created.token),
            "expiresAt": .number(Double(room.expiresAt)),
            "maxPeers": .number(Double(room.maxPeers)),
        ], status: .created)
    }

    /// TURN REST credentials for the embedded relay plus its STUN URL.
    func iceServers(roomID: String) -> JSONValue {
        let creds = TurnCredentials.make(secret: secrets.turnSecret, user: roomID, ttl: config.iceTTL)
        return [
            "iceServers": .array([
                ["urls": .array(config.stunURLs.map(JSONValue.string))],
                ["urls": .array(config.turnURLs.map(JSONValue.string)), "username": .string(creds.username), "credential": .string(creds.credential)],
            ]),
            "ttlSeconds": .number(config.iceTTL),
        ]
    }
}
