import Foundation
import OtterCore

/// Room creation for `otter up`, in one place for `POST /rooms` and the
/// sample room printed at start: RoomRules' bounds and defaults, the stored
/// row, the signed token and the link.
public struct Rooms: Sendable {
    let store: StateStore
    let tokens: RoomTokens
    let baseURL: String

    public init(store: StateStore, tokens: RoomTokens, baseURL: String) {
        self.store = store
        self.tokens = tokens
        self.baseURL = baseURL
    }

    /// What a room is asked for; fields left out take RoomRules' defaults.
    public struct Request: Sendable, Equatable {
        public var maxPeers = RoomRules.defaultMaxPeers
        public var ttl = RoomRules.defaultTTL

        public init() {}

        /// `POST /rooms`' body (DESIGN "Create a room"): `maxPeers` and
        /// `ttlSeconds`, both optional, both integers within RoomRules.
        public init(body: [String: JSONValue]) throws(OtterError) {
            if let v = body["maxPeers"] {
                guard let n = v.intValue, RoomRules.peerRange.contains(n) else {
                    throw OtterError(.badRequest, ErrorWording.badMaxPeers(RoomRules.peerRange))
                }
                maxPeers = n
            }
            if let v = body["ttlSeconds"] {
                guard let n = v.intValue, Double(n) >= RoomRules.minTTL, Double(n) <= RoomRules.maxTTL else {
                    throw OtterError(.badRequest, ErrorWording.badTTL(Int(RoomRules.minTTL)...Int(RoomRules.maxTTL)))
                }
                ttl = TimeInterval(n)
            }
        }
    }

    /// A stored room with its token and the link that opens it.
    public struct Created: Sendable {
        public let room: StoredRoom
        public let token: String
        public let url: String
    }

    public func create(_ request: Request = Request(), now: Date = Date()) async throws -> Created {
        let room = StoredRoom(id: Secrets.newRoomID(), maxPeers: request.maxPeers, createdAt: Int(now.timeIntervalSince1970),
                              expiresAt: Int(now.timeIntervalSince1970 + request.ttl))
        try store.insert(room)
        let token = try await tokens.sign(RoomClaims(roomID: room.id, maxPeers: room.maxPeers, issuedAt: now,
                                                     expiresAt: Date(timeIntervalSince1970: TimeInterval(room.expiresAt))))
        return Created(room: room, token: token, url: "\(baseURL)/?room=\(room.id)#token=\(token)")
    }
}
