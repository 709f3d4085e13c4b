import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import OtterCore

/// The signaling WebSocket at `/signal?token=<room token>` (DESIGN.md).
struct SignalingRoute: Sendable {
    let hub: SignalingHub
    let auth: RequestAuth
    let metrics: ServerMetrics
    let config: ServerConfiguration

    /// Largest message the WebSocket layer assembles; DESIGN's 64 KiB limit is
    /// enforced above it so the client gets a `too-large` frame, not a dropped socket.
    static let transportLimit = 1 << 20

    static let path = "/signal"

    /// The check `UpgradeGate` runs before the upgrade; a `false` here is
    /// answered by `shouldUpgrade` below with the precise JSON error.
    static func isAuthorized(uri: String, auth: RequestAuth) async -> Bool {
        guard let token = URI(uri).queryParameters.get("token"), !token.isEmpty else { return false }
        return (try? await auth.verifyRoomToken(token, roomID: nil, countFailure: false)) != nil
    }

    func register(on router: Router<some WebSocketRequestContext>) {
        router.ws(RouterPath(Self.path), shouldUpgrade: { request, _ in
            // The token is checked before the upgrade: a bad one never gets a socket.
            guard let token = request.uri.queryParameters.get("token"), !token.isEmpty else {
                throw APIError(.unauthorized, "unauthorized", "connect with ?token=<room token>")
            }
            do {
                _ = try await self.auth.verifyRoomToken(token, roomID: nil)
            } catch let e as APIError where e.status == .notFound {
                // DESIGN: every refused connect is a 401, as the cloud's $connect authorizer answers.
                throw APIError(.unauthorized, "unauthorized", e.message)
            }
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, context in
            guard let token = context.request.uri.queryParameters.get("token"),
                  let (claims, _) = try? await self.auth.verifyRoomToken(token, roomID: nil) else { return }
            await self.serve(inbound: inbound, outbound: outbound, claims: claims, logger: context.logger)
        })
    }

    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, claims: RoomClaims, logger: Logger) async {
        let mailbox = Mailbox()
        guard await hub.connect(mailbox) else {
            try? await outbound.close(.goingAway, reason: "server is shutting down")
            return
        }
        metrics.signalingConnections.increment()
        defer { metrics.signalingConnections.decrement() }
        var session = SignalingSession(roomID: claims.roomID, maxPeers: claims.maxPeers, hub: hub, mailbox: mailbox, metrics: metrics,
                                       limiter: RateLimiter(rate: config.signalRate, burst: config.signalBurst))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await text in mailbox.stream {
                    do { try await outbound.writeTextMessage(text) } catch { break }
                }
                // The mailbox ended: we closed it (room full, rate limit) or it overflowed.
                if mailbox.isGoingAway {
                    try? await outbound.close(.goingAway, reason: "server is shutting down")
                } else {
                    try? await outbound.close(mailbox.didOverflow ? .policyViolation : .normalClosure,
                                              reason: mailbox.didOverflow ? "too slow to read" : nil)
                }
            }
            do {
                for try await message in inbound.messages(maxSize: Self.transportLimit) {
                    guard await session.handle(message) else { break }
                }
            } catch {
                logger.debug("signaling socket ended", metadata: ["error": "\(error)"])
            }
            await session.end()
            await hub.disconnect(mailbox)
            mailbox.finish()
        }
    }
}

/// One socket's view of the protocol: join once, then signal and ping.
struct SignalingSession {
    let roomID: String
    let maxPeers: Int
    let hub: SignalingHub
    let mailbox: Mailbox
    let metrics: ServerMetrics
    var limiter: RateLimiter
    var peerID: String?

    init(roomID: String, maxPeers: Int, hub: SignalingHub, mailbox: Mailbox, metrics: ServerMetrics, limiter: RateLimiter) {
        self.roomID = roomID
        self.maxPeers = maxPeers
        self.hub = hub
        self.mailbox = mailbox
        self.metrics = metrics
        self.limiter = limiter
    }

    func reply(_ m: ServerMessage) {
        if case .error = m { metrics.signalingErrors.increment() }
        mailbox.send(m.text)
    }

    /// Handles one frame; false when the socket must close.
    mutating func handle(_ message: WebSocketMessage) async -> Bool {
        metrics.signalingMessages.increment()
        guard limiter.allow() else {
            reply(.error(code: .rateLimited, message: "too many messages; slow down and reconnect"))
            mailbox.finish()
            return false
        }
        let bytes: [UInt8]
        switch message {
        case .text(let s): bytes = Array(s.utf8)
        case .binary:
            reply(.error(code: .badMessage, message: "frames must be JSON text"))
            return true
        }
        let parsed: ClientMessage
        do { parsed = try ClientMessage.parse(bytes) } catch let e as OtterError {
            reply(.error(code: e.code, message: e.message))
            return true
        } catch { return true }

        switch parsed {
        case .ping:
            reply(.pong)
        case .join:
            guard peerID == nil else {
                reply(.error(code: .badMessage, message: "already joined"))
                return true
            }
            switch await hub.join(roomID: roomID, maxPeers: maxPeers, mailbox: mailbox) {
            case .joined(let id, let peers):
                peerID = id
                reply(.welcome(peerID: id, peers: peers, iceServers: nil))
            case .full:
                reply(.error(code: .roomFull, message: "this room already has \(maxPeers) people"))
                mailbox.finish()
                return false
            }
        case .signal(let to, let data):
            guard let from = peerID else {
                reply(.error(code: .badMessage, message: "join before sending signals"))
                return true
            }
            let frame = ServerMessage.signal(from: from, data: data).text
            if !(await hub.signal(roomID: roomID, from: from, to: to, frame: frame)) {
                reply(.error(code: .unknownPeer, message: "no peer \(to.prefix(40)) in this room"))
            }
        }
        return true
    }

    mutating func end() async {
        if let id = peerID { await hub.leave(roomID: roomID, peerID: id) }
        peerID = nil
    }
}
