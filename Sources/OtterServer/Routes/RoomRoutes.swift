import HTTPTypes
import Foundation
import Hummingbird
import OtterCore

/// `POST /rooms`, `GET /rooms/{roomId}`, `GET /rooms/{roomId}/ice-servers`.
struct RoomRoutes: Sendable {
    let config: ServerConfiguration
    let store: StateStore
    let tokens: RoomTokens
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
        let body = try await request.jsonObjectBody()
        var maxPeers = RoomRules.defaultMaxPeers
        if let v = body["maxPeers"] {
            guard let n = v.intValue, RoomRules.peerRange.contains(n) else {
                throw APIError(.badRequest, "bad-request", ErrorWording.badMaxPeers(RoomRules.peerRange))
            }
            maxPeers = n
        }
        var ttl = RoomRules.defaultTTL
        if let v = body["ttlSeconds"] {
            guard let n = v.intValue, Double(n) >= RoomRules.minTTL, Double(n) <= RoomRules.maxTTL else {
                throw APIError(.badRequest, "bad-request", ErrorWording.badTTL(Int(RoomRules.minTTL)...Int(RoomRules.maxTTL)))
            }
            ttl = TimeInterval(n)
        }
        let now = Date()
        let room = StoredRoom(id: Secrets.newRoomID(), maxPeers: maxPeers, createdAt: Int(now.timeIntervalSince1970),
                              expiresAt: Int(now.timeIntervalSince1970 + ttl))
        try store.insert(room)
        let token = try await tokens.sign(RoomClaims(roomID: room.id, maxPeers: maxPeers, issuedAt: now,
                                                     expiresAt: Date(timeIntervalSince1970: TimeInterval(room.expiresAt))))
        metrics.roomsCreated.increment()
        return Response.json([
            "roomId": .string(room.id),
            "url": .string("\(config.baseURL)/?room=\(room.id)#token=\(token)"),
            "token": .string(token),
            "expiresAt": .number(Double(room.expiresAt)),
            "maxPeers": .number(Double(maxPeers)),
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
