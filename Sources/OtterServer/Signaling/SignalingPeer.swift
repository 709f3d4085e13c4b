import NIOCore
import NIOWebSocket

/// The hub's handle on one signaling socket, usable from any event loop.
///
/// Delivery never blocks and never buffers without limit: a browser that
/// stops reading lets the channel's outbound buffer pass its high-water mark,
/// and the next frame for it closes it (1008) instead of queueing more.
final class SignalingPeer: Sendable {
    let channel: any Channel

    init(channel: any Channel) {
        self.channel = channel
    }

    /// Without `flush` the caller must flush later (`SignalingConnection`
    /// does, once per read burst, for peers on its own event loop).
    func send(_ frame: ByteBuffer, flush: Bool = true) {
        guard channel.isWritable else {
            requestClose(.policyViolation, reason: "too slow to read")
            return
        }
        let frame = WebSocketFrame(fin: true, opcode: .text, data: frame)
        if flush {
            channel.writeAndFlush(frame, promise: nil)
        } else {
            channel.write(frame, promise: nil)
        }
    }

    /// Asks the socket's WebSocketControlHandler to run the close handshake with this code.
    func requestClose(_ code: WebSocketErrorCode, reason: String) {
        channel.pipeline.fireUserInboundEventTriggered(WebSocketCloseRequest(code: code, reason: reason))
    }
}
