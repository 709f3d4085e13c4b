import Logging
import NIOCore
import NIOWebSocket
import OtterCore

/// One signaling socket after the upgrade: the DESIGN protocol (join once,
/// then signal and ping), WebSocket control frames, keep-alive pings and the
/// close handshake. It runs on the socket's event loop with no task of its
/// own, so an idle socket costs only its channel.
final class SignalingConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    struct Settings: Sendable {
        var pingInterval: TimeAmount
        var closeTimeout: TimeAmount = .seconds(3)
        var rate: Double
        var burst: Double
    }

    private enum Phase { case open, closing, closed }

    private let roomID: String
    private let maxPeers: Int
    private let hub: SignalingHub
    private let metrics: ServerMetrics
    private let settings: Settings
    private let logger: Logger
    private var limiter: RateLimiter
    private var peer: SignalingPeer?
    private var peerID: String?
    private var phase = Phase.open
    private var awaitingPong = false
    private var pingTask: RepeatedTask?
    private var closeTimer: Scheduled<Void>?
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

    func handlerAdded(context: ChannelHandlerContext) {
        let peer = SignalingPeer(channel: context.channel)
        self.peer = peer
        metrics.signalingConnections.increment()
        guard hub.connect(peer) else {
            close(context: context, code: .goingAway, reason: "server is shutting down")
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: settings.pingInterval, delay: settings.pingInterval) { _ in
            let (connection, context) = bound.value
            connection.pingTick(context: context)
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
            guard phase == .open else { return }
            handleText(frame.unmaskedData, context: context)
        case .binary:
            guard phase == .open else { return }
            metrics.signalingMessages.increment()
            reply(.error(code: .badMessage, message: "frames must be JSON text"), context: context)
        case .ping:
            guard phase == .open else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            awaitingPong = false
        case .connectionClose:
            if phase == .open {
                // The client closes first: answer with its code, then hang up.
                var data = frame.unmaskedData
                let code = data.readWebSocketErrorCode() ?? .normalClosure
                close(context: context, code: code, reason: "", waitForReply: false)
            } else {
                context.close(promise: nil)
            }
        default:
            break
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

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let request = event as? SignalingCloseRequest {
            close(context: context, code: request.code, reason: request.reason)
        } else if case ChannelEvent.inputClosed = event {
            // The server allows half-closure (for HTTP); a browser that hung
            // up without a close frame is gone all the same.
            context.close(promise: nil)
        } else if event is ChannelShouldQuiesceEvent {
            close(context: context, code: .goingAway, reason: "server is shutting down")
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOWebSocketFrameAggregator.Error {
            close(context: context, code: .messageTooLarge, reason: "message too large")
        } else {
            logger.debug("signaling socket error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    // MARK: - Protocol

    private func handleText(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        metrics.signalingMessages.increment()
        guard limiter.allow() else {
            reply(.error(code: .rateLimited, message: "too many messages; slow down and reconnect"), context: context)
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
        case .join:
            guard peerID == nil, let peer else {
                reply(.error(code: .badMessage, message: "already joined"), context: context)
                return
            }
            let allocator = context.channel.allocator
            switch hub.join(roomID: roomID, maxPeers: maxPeers, peer: peer, encode: { Self.encode($0, allocator) }) {
            case .joined(let id, let peers):
                peerID = id
                reply(.welcome(peerID: id, peers: peers, iceServers: nil), context: context)
            case .full:
                reply(.error(code: .roomFull, message: "this room already has \(maxPeers) people"), context: context)
                close(context: context, code: .normalClosure, reason: "")
            }
        case .signal(let to, let data):
            guard let from = peerID else {
                reply(.error(code: .badMessage, message: "join before sending signals"), context: context)
                return
            }
            guard let target = hub.target(roomID: roomID, from: from, to: to) else {
                reply(.error(code: .unknownPeer, message: "no peer \(to.prefix(40)) in this room"), context: context)
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

    // MARK: - Keep-alive and closing

    /// A socket that did not answer the previous ping is gone (a laptop lid
    /// closed, a network dropped): hang up so its room hears `peer-left`.
    private func pingTick(context: ChannelHandlerContext) {
        guard phase == .open else { return }
        if awaitingPong {
            logger.debug("signaling socket stopped answering pings")
            context.close(promise: nil)
            return
        }
        awaitingPong = true
        let frame = WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    /// Sends a close frame after whatever is already queued, then waits (at
    /// most `closeTimeout`) for the client's close before dropping the TCP
    /// connection, so browsers see the code and not 1006.
    private func close(context: ChannelHandlerContext, code: WebSocketErrorCode, reason: String, waitForReply: Bool = true) {
        guard phase == .open else { return }
        phase = .closing
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        guard waitForReply else {
            context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        closeTimer = context.eventLoop.scheduleTask(in: settings.closeTimeout) { bound.value.close(promise: nil) }
    }

    private func tearDown(context: ChannelHandlerContext) {
        guard phase != .closed else { return }
        phase = .closed
        pingTask?.cancel()
        closeTimer?.cancel()
        if let id = peerID {
            let allocator = context.channel.allocator
            hub.leave(roomID: roomID, peerID: id, encode: { Self.encode($0, allocator) })
            peerID = nil
        }
        if let peer { hub.disconnect(peer) }
        metrics.signalingConnections.decrement()
    }
}
