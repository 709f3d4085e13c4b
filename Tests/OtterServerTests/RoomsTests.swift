import Foundation
import OtterCore
import Testing
@testable import OtterServer

/// Room creation shared by `POST /rooms` and `otter up`'s sample room, on a
/// real in-memory SQLite store.
struct RoomsTests {
    @Test func theSampleRoomHasTheDefaultSizeAndLifetimeAndItsLinkOpensIt() async throws {
        let store = try StateStore()
        let (secrets, _) = try store.bootstrap()
        let state = try await ServerState(config: ServerConfiguration(port: 8080), store: store, secrets: secrets)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let created = try await state.rooms.create(now: now)
        #expect(try store.room(id: created.room.id) == created.room)
        #expect(created.room.maxPeers == RoomRules.defaultMaxPeers)
        #expect(created.room.expiresAt == 1_800_000_000 + Int(RoomRules.defaultTTL))
        #expect(created.url == "\(state.config.baseURL)/?room=\(created.room.id)#token=\(created.token)")
        let claims = try await state.tokens.verify(created.token, now: now)
        #expect(claims.roomID == created.room.id && claims.maxPeers == RoomRules.defaultMaxPeers)
    }

    @Test(arguments: [
        (#"{"maxPeers":5}"#, "maxPeers must be an integer from 2 to 4"),
        (#"{"maxPeers":"3"}"#, "maxPeers must be an integer from 2 to 4"),
        (#"{"ttlSeconds":59}"#, "ttlSeconds must be an integer from 60 to 2592000"),
        (#"{"ttlSeconds":90.5}"#, "ttlSeconds must be an integer from 60 to 2592000"),
    ])
    func outOfBoundsRequestsAreRefusedWithTheRule(body: String, message: String) throws {
        let json = try JSONDecoder().decode([String: JSONValue].self, from: Data(body.utf8))
        #expect(throws: OtterError(.badRequest, message)) { try Rooms.Request(body: json) }
    }

    @Test func leftOutFieldsTakeTheDefaults() throws {
        let request = try Rooms.Request(body: ["maxPeers": .number(4)])
        #expect(request.maxPeers == 4 && request.ttl == RoomRules.defaultTTL)
    }
}
