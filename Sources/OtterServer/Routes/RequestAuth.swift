import HTTPTypes
import Foundation
import Hummingbird
import OtterCore

/// Checks the two kinds of credentials the API takes: the API key (rooms,
/// rotation) and the room token (room details, ICE servers, signaling).
struct RequestAuth: Sendable {
    let store: StateStore
    let tokens: RoomTokens
    let metrics: ServerMetrics

    init(store: StateStore, tokens: RoomTokens, metrics: ServerMetrics) {
        self.store = store
        self.tokens = tokens
        self.metrics = metrics
    }

    init(_ state: ServerState) {
        self.init(store: state.store, tokens: state.tokens, metrics: state.metrics)
    }

    func requireAPIKey(_ request: Request) throws {
        guard let presented = request.headers[HTTPField.Name("x-api-key")!], !presented.isEmpty else {
            metrics.authFailures.increment()
            throw APIError(.unauthorized, "unauthorized", ErrorWording.apiKeyMissing)
        }
        guard let hash = try store.apiKeyHash(), APIKey.matches(presented, storedHash: hash) else {
            metrics.authFailures.increment()
            throw APIError(.unauthorized, "unauthorized", ErrorWording.apiKeyInvalid)
        }
    }

    /// Verifies the Bearer token for `roomID`, and that the room still exists.
    func requireRoomToken(_ request: Request, roomID: String) async throws -> (RoomClaims, StoredRoom) {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            metrics.authFailures.increment()
            throw APIError(.unauthorized, "unauthorized", ErrorWording.bearerMissing)
        }
        return try await verifyRoomToken(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), roomID: roomID)
    }

    /// - Parameter countFailure: false for a pre-check whose failure is
    ///   verified (and counted) again by the route that answers it.
    func verifyRoomToken(_ token: String, roomID: String?, countFailure: Bool = true) async throws -> (RoomClaims, StoredRoom) {
        let claims: RoomClaims
        do {
            claims = try await tokens.verify(token)
        } catch let e as OtterError {
            if countFailure { metrics.authFailures.increment() }
            throw APIError(e)
        }
        if let roomID, claims.roomID != roomID {
            throw APIError(.forbidden, "forbidden", ErrorWording.tokenOtherRoom)
        }
        guard let room = try store.room(id: claims.roomID), room.expiresAt > Int(Date().timeIntervalSince1970) else {
            throw APIError(.notFound, "not-found", ErrorWording.roomNotFound)
        }
        return (claims, room)
    }
}
