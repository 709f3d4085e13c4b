import Logging
import NIOCore
import NIOWebSocket
import OtterCore

/// One signaling socket after the upgrade: the DESIGN protocol (join once,
/// then signal and ping), its rate limit, and one flush per read burst.
/// WebSocket control frames, keep-alive and the close handshake are
/// `WebSocketControlHandler`'s, just below it. It runs on the socket's event
/// loop with no task of its own, so an idle socket costs only its channel.
final class SignalingConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    struct Settings: Sendable {
        var pingInterval: TimeAmount
        var closeTimeout: TimeAmount = .seconds(3)
        var rate: Double
        var burst: Double
        /// A socket that has not sent `join` by then is closed (1008): an
        /// idle upgraded socket otherwise costs a descriptor until pings fail.
        var joinTimeout: TimeAmount = .seconds(10)
    }

    private let roomID: String
    private let maxPeers: Int
    private let hub: SignalingHub
    private let metrics: ServerMetrics
    private let settings: Settings
    private let logger: Logger
    private var limiter: RateLimiter
    private var peer: SignalingPeer?
    private var peerID: String?
    private var tornDown = false
    private var joinTimer: Scheduled<Void>?
    /// Where this socket is counted among those not joined yet (hub.admitPending).
    private var pendingAddress: String?
    /// Frames written but not flushed during this read burst: one flush (one
    /// `writev`) per socket per burst instead of one per frame.
    private var flushSelf = false
    private var unflushed: [SignalingPeer] = []

    init(roomID: String, maxPeers: Int, hub: SignalingHub, metrics: ServerMetrics, settings: Settings, logger: Logger) {
        self.roomID = roomID
        self.maxPeers = maxPeers
        self.hub = hub
        self.metrics = metrics
        self.settings = settings
        self.logger = logger
        self.limiter = RateLimiter(rate: settings.rate, burst: settings.burst)
    }

    /// A signaling socket's handlers, above the frame codec and aggregator:
    /// control frames first, then the protocol.
    static func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations, roomID: String, maxPeers: Int, hub: SignalingHub,
                            metrics: ServerMetrics, settings: Settings, logger: Logger) throws {
        try pipeline.addHandler(WebSocketControlHandler(pingInterval: settings.pingInterval, closeTimeout: settings.closeTimeout, logger: logger))
        try pipeline.addHandler(SignalingConnection(roomID: roomID, maxPeers: maxPeers, hub: hub, metrics: metrics, settings: settings,
                                                    logger: logger))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let peer = SignalingPeer(channel: context.channel)
        self.peer = peer
        metrics.signalingConnections.increment()
        guard hub.connect(peer) else {
            close(context: context, code: .goingAway, reason: "server is shutting down")
            return
        }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard hub.admitPending(roomID: roomID, address: address) else {
            close(context: context, code: .policyViolation, reason: "too many sockets waiting to join; join or close the others")
            return
        }
        pendingAddress = address
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        joinTimer = context.eventLoop.scheduleTask(in: settings.joinTimeout) {
            let (connection, context) = bound.value
            guard connection.peerID == nil else { return }
            connection.close(context: context, code: .policyViolation, reason: "send join within \(connection.settings.joinTimeout.nanoseconds / 1_000_000_000) s")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown(context: context)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            handleText(frame.unmaskedData, context: context)
        default:
            // WebSocketControlHandler passes up only text and binary frames.
            metrics.signalingMessages.increment()
            reply(.error(code: .badMessage, message: "frames must be JSON text"), context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if flushSelf {
            flushSelf = false
            context.flush()
        }
        if !unflushed.isEmpty {
            for peer in unflushed { peer.channel.flush() }
            unflushed.removeAll(keepingCapacity: true)
        }
        context.fireChannelReadComplete()
    }

    // MARK: - Protocol

    private func handleText(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        metrics.signalingMessages.increment()
        // §8.1: a text message that is not UTF-8 fails the connection with 1007.
        guard String(validating: bytes.readableBytesView, as: UTF8.self) != nil else {
            close(context: context, code: .dataInconsistentWithMessage, reason: "text frames must be UTF-8", waitForReply: false)
            return
        }
        guard limiter.allow() else {
            reply(.error(code: .rateLimited, message: ErrorWording.rateLimited), context: context)
            close(context: context, code: .normalClosure, reason: "")
            return
        }
        let parsed: ClientMessage
        do { parsed = try ClientMessage.parse(bytes.readableBytesView) } catch let e as OtterError {
            reply(.error(code: e.code, message: e.message), context: context)
            return
        } catch { return }

        switch parsed {
        case .ping:
            reply(.pong, context: context)
        case .join(let resume):
            guard peerID == nil, let peer else {
                reply(.error(code: .badMessage, message: ErrorWording.alreadyJoined), context: context)
                return
            }
            let allocator = context.channel.allocator
            switch hub.join(roomID: roomID, maxPeers: maxPeers, peer: peer, resume: resume, encode: { Self.encode($0, allocator) }) {
            case .joined(let id, let peers, let resumeKey, let replaced):
                peerID = id
                leavePending()
                if replaced != nil {
                    metrics.seatTakeovers.increment()
                    logger.debug("signaling seat taken over by a rejoin")
                }
                reply(.welcome(peerID: id, peers: peers, iceServers: nil, resume: resumeKey), context: context)
            case .full:
                reply(.error(code: .roomFull, message: ErrorWording.roomFull(maxPeers)), context: context)
                close(context: context, code: .normalClosure, reason: "")
            }
        case .signal(let to, let data):
            guard let from = peerID else {
                reply(.error(code: .badMessage, message: ErrorWording.signalBeforeJoin), context: context)
                return
            }
            guard let peer, let target = hub.target(roomID: roomID, from: from, sender: peer, to: to) else {
                reply(.error(code: .unknownPeer, message: ErrorWording.unknownPeer(to.prefix(40))), context: context)
                return
            }
            let frame = Self.encode(.signal(from: from, data: data), context.channel.allocator)
            if target.channel.eventLoop === context.eventLoop {
                target.send(frame, flush: false)
                if !unflushed.contains(where: { $0 === target }) { unflushed.append(target) }
            } else {
                target.send(frame, flush: true)
            }
        }
    }

    private func reply(_ message: ServerMessage, context: ChannelHandlerContext) {
        if case .error = message { metrics.signalingErrors.increment() }
        let frame = WebSocketFrame(fin: true, opcode: .text, data: Self.encode(message, context.channel.allocator))
        context.write(wrapOutboundOut(frame), promise: nil)
        flushSelf = true  // at the end of the read burst
    }

    static func encode(_ message: ServerMessage, _ allocator: ByteBufferAllocator) -> ByteBuffer {
        let text = message.text
        var buffer = allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        return buffer
    }

    // MARK: - Closing

    /// Asks WebSocketControlHandler for the close handshake (or, without
    /// `waitForReply`, to fail the connection at once).
    private func close(context: ChannelHandlerContext, code: WebSocketErrorCode, reason: String, waitForReply: Bool = true) {
        context.triggerUserOutboundEvent(WebSocketCloseRequest(code: code, reason: reason, waitForReply: waitForReply), promise: nil)
    }

    private func leavePending() {
        joinTimer?.cancel()
        joinTimer = nil
        if let address = pendingAddress { hub.leavePending(roomID: roomID, address: address) }
        pendingAddress = nil
    }

    private func tearDown(context: ChannelHandlerContext) {
        guard !tornDown else { return }
        tornDown = true
        leavePending()
        if let id = peerID {
            let allocator = context.channel.allocator
            if let peer { hub.leave(roomID: roomID, peerID: id, peer: peer, encode: { Self.encode($0, allocator) }) }
            peerID = nil
        }
        if let peer { hub.disconnect(peer) }
        metrics.signalingConnections.decrement()
    }
}
