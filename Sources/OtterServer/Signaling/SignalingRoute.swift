import Hummingbird
import HummingbirdCore
import OtterCore

/// The token check of `/signal?token=<room token>`, used before the upgrade
/// by `SignalingChannel`, and the HTTP route a plain GET (no handshake) gets:
/// DESIGN's JSON errors, 401 for a missing, bad, expired or deleted room's
/// token, 400 for a good token without a WebSocket handshake.
struct SignalingRoute: Sendable {
    let auth: RequestAuth

    static let path = "/signal"

    /// The check before the upgrade: the room the token admits, or the error
    /// to answer instead of a socket.
    static func admit(uri: String, auth: RequestAuth) async -> Result<RoomClaims, APIError> {
        guard let token = URI(uri).queryParameters.get("token"), !token.isEmpty else {
            auth.metrics.authFailures.increment()
            return .failure(APIError(.unauthorized, "unauthorized", "connect with ?token=<room token>"))
        }
        do {
            var (claims, room) = try await auth.verifyRoomToken(token, roomID: nil)
            // The seat count is the stored room's: a token (even one signed
            // with a leaked secret) cannot raise a room's cap.
            claims.maxPeers = room.maxPeers
            return .success(claims)
        } catch let e as APIError where e.status == .notFound {
            // DESIGN: every refused connect is a 401, as the cloud's $connect authorizer answers.
            return .failure(APIError(.unauthorized, "unauthorized", e.message))
        } catch let e as APIError {
            return .failure(e)
        } catch {
            return .failure(APIError(.internalServerError, "internal", "something went wrong on the server"))
        }
    }

    func register(on router: Router<some RequestContext>) {
        router.get(RouterPath(Self.path)) { request, _ -> Response in
            if case .failure(let error) = await Self.admit(uri: request.uri.description, auth: self.auth) { throw error }
            throw APIError(.badRequest, "bad-request", "open this URL as a WebSocket (Upgrade: websocket, Sec-WebSocket-Version: 13)")
        }
    }
}
