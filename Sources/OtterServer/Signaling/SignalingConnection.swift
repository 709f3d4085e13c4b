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
        /// A socket that has not sent `join` by then is closed (1008): an
        /// idle upgraded socket otherwise costs a descriptor until pings fail.
        var joinTimeout: TimeAmount = .seconds(10)
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
                // The client closes first: answer with its code, then hang up;
                // a malformed close is answered 1002/1007, never echoed.
                var data = frame.unmaskedData
                var code = WebSocketErrorCode.normalClosure
                if data.readableBytes == 1 {
                    code = .protocolError
                } else if let raw = data.readInteger(as: UInt16.self) {
                    if !Self.isValidCloseCode(raw) {
                        code = .protocolError
                    } else if String(validating: data.readableBytesView, as: UTF8.self) == nil {
                        code = .dataInconsistentWithMessage
                    } else {
                        code = WebSocketErrorCode(codeNumber: Int(raw))
                    }
                }
                close(context: context, code: code, reason: "", waitForReply: false)
            } else {
                context.close(promise: nil)
            }
        default:
            // WebSocketFrameValidator lets no other opcode through.
            close(context: context, code: .protocolError, reason: "reserved opcode", waitForReply: false)
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
        if let error = error as? NIOWebSocketFrameAggregator.Error {
            switch error {
            case .didReceiveFragmentBeforeReceivingTextOrBinaryFrame, .receivedNewFrameWithoutFinishingPrevious:
                close(context: context, code: .protocolError, reason: "fragments out of order", waitForReply: false)
            default:
                close(context: context, code: .messageTooLarge, reason: "message too large")
            }
        } else {
            logger.debug("signaling socket error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    // MARK: - Protocol

    /// RFC 6455 §7.4: codes an endpoint may send (1004-1006 and 1015 are
    /// reserved for reporting, below 1000 unused, 1016-2999 unassigned).
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        (1000...1003).contains(code) || (1007...1014).contains(code) || (3000...4999).contains(code)
    }

    private func handleText(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        metrics.signalingMessages.increment()
        // §8.1: a text message that is not UTF-8 fails the connection with 1007.
        guard String(validating: bytes.readableBytesView, as: UTF8.self) != nil else {
            close(context: context, code: .dataInconsistentWithMessage, reason: "text frames must be UTF-8", waitForReply: false)
            return
        }
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
                reply(.error(code: .badMessage, message: ErrorWording.alreadyJoined), context: context)
                return
            }
            let allocator = context.channel.allocator
            switch hub.join(roomID: roomID, maxPeers: maxPeers, peer: peer, encode: { Self.encode($0, allocator) }) {
            case .joined(let id, let peers):
                peerID = id
                leavePending()
                reply(.welcome(peerID: id, peers: peers, iceServers: nil), context: context)
            case .full:
                reply(.error(code: .roomFull, message: ErrorWording.roomFull(maxPeers)), context: context)
                close(context: context, code: .normalClosure, reason: "")
            }
        case .signal(let to, let data):
            guard let from = peerID else {
                reply(.error(code: .badMessage, message: ErrorWording.signalBeforeJoin), context: context)
                return
            }
            guard let target = hub.target(roomID: roomID, from: from, to: to) else {
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

    private func leavePending() {
        joinTimer?.cancel()
        joinTimer = nil
        if let address = pendingAddress { hub.leavePending(roomID: roomID, address: address) }
        pendingAddress = nil
    }

    private func tearDown(context: ChannelHandlerContext) {
        guard phase != .closed else { return }
        phase = .closed
        pingTask?.cancel()
        closeTimer?.cancel()
        leavePending()
        if let id = peerID {
            let allocator = context.channel.allocator
            hub.leave(roomID: roomID, peerID: id, encode: { Self.encode($0, allocator) })
            peerID = nil
        }
        if let peer { hub.disconnect(peer) }
        metrics.signalingConnections.decrement()
    }
}
