import NIOCore

/// A minimal HTTP/1.1 responder for `/metrics` (Prometheus text) and
/// `/healthz`. It runs on the relay loop so it reads the counters directly.
/// Requests larger than 8 KiB are refused, so a client cannot make it buffer more.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    /// The counters' text, summed over the shards (RelayServer.metricsText).
    let metrics: @Sendable () -> String
    var request = ByteBuffer()

    init(metrics: @escaping @Sendable () -> String) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        request.writeBuffer(&chunk)
        guard request.readableBytes <= 8192 else {
            reply(context, status: "431 Request Header Fields Too Large", body: "request too large\n")
            return
        }
        let text = request.getString(at: request.readerIndex, length: request.readableBytes) ?? ""
        guard text.contains("\r\n\r\n") || text.contains("\n\n") else { return }
        let parts = text.prefix(while: { $0 != "\r" && $0 != "\n" }).split(separator: " ")
        let path = parts.count >= 2 ? String(parts[1]) : ""
        switch (parts.first.map(String.init), path) {
        case ("GET", "/metrics"):
            reply(context, status: "200 OK", body: metrics(),
                  contentType: "text/plain; version=0.0.4; charset=utf-8")
        case ("GET", "/healthz"):
            reply(context, status: "200 OK", body: "ok\n")
        default:
            reply(context, status: "404 Not Found", body: "try /metrics or /healthz\n")
        }
    }

    private func reply(_ context: ChannelHandlerContext, status: String, body: String, contentType: String = "text/plain") {
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        var out = context.channel.allocator.buffer(capacity: head.utf8.count + body.utf8.count)
        out.writeString(head)
        out.writeString(body)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
    }
}
