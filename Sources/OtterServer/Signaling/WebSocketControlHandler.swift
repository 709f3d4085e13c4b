import Logging
import NIOCore
import NIOWebSocket

/// The WebSocket's own housekeeping, below the signaling protocol: answers
/// pings, sends keep-alive pings and drops a socket that stops answering, and
/// runs the close handshake. Data frames pass up while the socket is open and
/// are dropped once it is closing.
///
/// Anyone may ask for a close with a `WebSocketCloseRequest`: handlers above
/// as an outbound user event, other threads (the hub) as an inbound one.
final class WebSocketControlHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Phase { case open, closing, closed }

    private let pingInterval: TimeAmount
    private let closeTimeout: TimeAmount
    private let logger: Logger
    private var phase = Phase.open
    private var awaitingPong = false
    private var pingTask: RepeatedTask?
    private var closeTimer: Scheduled<Void>?

    init(pingInterval: TimeAmount, closeTimeout: TimeAmount, logger: Logger) {
        self.pingInterval = pingInterval
        self.closeTimeout = closeTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: pingInterval, delay: pingInterval) { _ in
            let (handler, context) = bound.value
            handler.pingTick(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimers()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimers()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            guard phase == .open else { return }
            context.fireChannelRead(data)
        case .ping:
            guard phase == .open else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            awaitingPong = false
        case .connectionClose:
            if phase == .open {
                // The client closes first: answer with its code, then hang up;
                // a malformed close is answered 1002/1007, never echoed.
                close(context: context, code: Self.answer(toClose: frame.unmaskedData), reason: "", waitForReply: false)
            } else {
                context.close(promise: nil)
            }
        default:
            // WebSocketFrameValidator lets no other opcode through.
            close(context: context, code: .protocolError, reason: "reserved opcode", waitForReply: false)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let request = event as? WebSocketCloseRequest {
            close(context: context, code: request.code, reason: request.reason, waitForReply: request.waitForReply)
        } else if case ChannelEvent.inputClosed = event {
            // The server allows half-closure (for HTTP); a browser that hung
            // up without a close frame is gone all the same.
            context.close(promise: nil)
        } else if event is ChannelShouldQuiesceEvent {
            close(context: context, code: .goingAway, reason: "server is shutting down", waitForReply: true)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let request = event as? WebSocketCloseRequest else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        close(context: context, code: request.code, reason: request.reason, waitForReply: request.waitForReply)
        promise?.succeed(())
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketFrameAggregator.Error {
            switch error {
            case .didReceiveFragmentBeforeReceivingTextOrBinaryFrame, .receivedNewFrameWithoutFinishingPrevious:
                close(context: context, code: .protocolError, reason: "fragments out of order", waitForReply: false)
            default:
                close(context: context, code: .messageTooLarge, reason: "message too large", waitForReply: true)
            }
        } else {
            logger.debug("signaling socket error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    /// RFC 6455 §7.4: codes an endpoint may send (1004-1006 and 1015 are
    /// reserved for reporting, below 1000 unused, 1016-2999 unassigned).
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        (1000...1003).contains(code) || (1007...1014).contains(code) || (3000...4999).contains(code)
    }

    /// The code to answer a client's close frame with: its own when valid
    /// (1000 when it gave none), 1002 for a bad code, 1007 for a reason that
    /// is not UTF-8.
    static func answer(toClose payload: ByteBuffer) -> WebSocketErrorCode {
        var data = payload
        if data.readableBytes == 1 { return .protocolError }
        guard let raw = data.readInteger(as: UInt16.self) else { return .normalClosure }
        guard isValidCloseCode(raw) else { return .protocolError }
        guard String(validating: data.readableBytesView, as: UTF8.self) != nil else { return .dataInconsistentWithMessage }
        return WebSocketErrorCode(codeNumber: Int(raw))
    }

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
    private func close(context: ChannelHandlerContext, code: WebSocketErrorCode, reason: String, waitForReply: Bool) {
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
        closeTimer = context.eventLoop.scheduleTask(in: closeTimeout) { bound.value.close(promise: nil) }
    }

    private func stopTimers() {
        guard phase != .closed else { return }
        phase = .closed
        pingTask?.cancel()
        closeTimer?.cancel()
    }
}

/// Asks `WebSocketControlHandler` to close the socket with `code`: as an
/// outbound user event from the handlers above it, or an inbound one from
/// other threads.
struct WebSocketCloseRequest: Sendable {
    let code: WebSocketErrorCode
    let reason: String
    /// False fails the connection: the close frame goes out and the TCP
    /// connection closes without waiting for the client's close.
    var waitForReply = true
}
