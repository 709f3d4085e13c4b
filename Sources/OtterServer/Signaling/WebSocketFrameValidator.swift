import NIOCore
import NIOWebSocket

/// RFC 6455 rules NIO's frame decoder leaves to the application, checked on
/// each frame before the aggregator (which drops the mask and RSV bits when it
/// joins fragments): a client frame must be masked (§5.1), RSV bits need a
/// negotiated extension and none is (§5.2), reserved opcodes are errors
/// (§5.2). Any of these fails the connection with 1002 at once (§7.1.7): the
/// close frame goes out, the TCP connection closes, and nothing after the bad
/// frame is read.
final class WebSocketFrameValidator: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private static let known: [WebSocketOpcode] = [.continuation, .text, .binary, .connectionClose, .ping, .pong]
    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let frame = unwrapInboundIn(data)
        let problem: String? =
            if frame.maskKey == nil { "client frames must be masked" }
            else if frame.rsv1 || frame.rsv2 || frame.rsv3 { "no extension was negotiated: RSV bits must be 0" }
            else if !Self.known.contains(frame.opcode) { "reserved opcode" }
            else { nil }
        guard let problem else {
            context.fireChannelRead(data)
            return
        }
        failed = true
        Self.fail(context: context, code: .protocolError, reason: problem)
    }

    /// Sends a close frame with `code`, then closes the connection without
    /// waiting for the client's close.
    static func fail(context: ChannelHandlerContext, code: WebSocketErrorCode, reason: String) {
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(NIOAny(frame)).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
