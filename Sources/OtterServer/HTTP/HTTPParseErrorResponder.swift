import HTTPTypes
import NIOCore
import NIOHTTP1

/// Answers a request NIO's HTTP decoder cannot parse, then closes.
///
/// Hummingbird leaves decoder errors to the pipeline's end, where nothing
/// answers and nothing closes: a malformed head left the connection open until
/// the client gave up. This says what was wrong (RFC 9110's status for it, with
/// DESIGN's JSON error body) and hangs up at once, as the decoder cannot go on
/// after an error. It sits after the upgrade handler, where NIO's own
/// `HTTPServerProtocolErrorHandler` would (that one answers 400 to everything).
final class HTTPParseErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "otter.http-parse-errors"

    private let meter: RequestLineMeter
    private let maxFieldSize: Int
    /// A response head went out and its end not yet: no second head can follow.
    private var responding = false
    /// The error is answered: what still arrives is read and dropped.
    private var answered = false

    init(meter: RequestLineMeter, maxFieldSize: Int) {
        self.meter = meter
        self.maxFieldSize = maxFieldSize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        if case .end = unwrapInboundIn(data) { meter.startRequest() }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if answered, case ChannelEvent.inputClosed = event {
            context.close(promise: nil)  // the client has read the answer and hung up
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200: responding = true
        case .end: responding = false
        default: break
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !answered else { return }  // the decoder refusing the rest of what the client still sends
        guard let error = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !responding else {
            context.close(promise: nil)
            return
        }
        let (status, message) = answer(to: error)
        let body = APIError(HTTPResponse.Status(code: Int(status.code)), Self.code(status), message).body
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: [
            "Content-Type": "application/json", "Content-Length": "\(body.readableBytes)", "Connection": "close",
        ])
        answered = true
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        // A lingering close: closing at once with the rest of a long request
        // unread makes the kernel send RST, which can destroy the answer before
        // the client reads it. So: send the answer and a FIN, read and drop
        // what still comes for at most a second, then close.
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            let context = bound.value
            context.close(mode: .output).whenFailure { _ in bound.value.close(promise: nil) }
            context.eventLoop.scheduleTask(in: .seconds(1)) { bound.value.close(promise: nil) }
        }
        // Not passed on: the request is answered and the connection closing;
        // the handlers behind would only log it or close it a second time.
    }

    private func answer(to error: HTTPParserError) -> (HTTPResponseStatus, String) {
        switch error {
        case .headerOverflow where meter.length > maxFieldSize:
            return (.uriTooLong, "the URL is longer than \(maxFieldSize / 1024) KiB")
        case .headerOverflow:
            return (.requestHeaderFieldsTooLarge, "the request headers exceed the server's limits")
        case .invalidVersion:
            return (.httpVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are served here (and WebSocket over HTTP/1.1)")
        case .unexpectedContentLength:
            return (.badRequest, "Content-Length and Transfer-Encoding: chunked together are ambiguous; send one")
        case .invalidContentLength:
            return (.badRequest, "Content-Length must be one non-negative number")
        default:
            return (.badRequest, "the request is not valid HTTP/1.1")
        }
    }

    private static func code(_ status: HTTPResponseStatus) -> String {
        switch status {
        case .uriTooLong, .requestHeaderFieldsTooLarge: "too-large"
        default: "bad-request"
        }
    }
}

/// Counts the bytes of the request line (method, URL, version) as they arrive,
/// before the decoder: the decoder reports a long URL and long headers as the
/// same overflow, and only this tells 414 from 431. Pipelined requests may be
/// measured from the middle of a line; that only blurs 414 into 431.
final class RequestLineMeter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let name = "otter.request-line-meter"

    private var measuring = true
    private(set) var length = 0

    func startRequest() {
        measuring = true
        length = 0
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if measuring {
            let bytes = unwrapInboundIn(data).readableBytesView
            if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                length += newline - bytes.startIndex
                measuring = false
            } else {
                length += bytes.count
            }
        }
        context.fireChannelRead(data)
    }
}
