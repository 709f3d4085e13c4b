import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import OtterCore

/// Hummingbird's HTTP/1 channel with one WebSocket upgrade: `/signal`.
///
/// An accepted upgrade becomes a plain NIO pipeline (frame codec, aggregator,
/// `WebSocketControlHandler`, `SignalingConnection`) with no Swift task behind it, which is what lets
/// 10,000 idle sockets fit in little memory. Everything else, including every
/// refused upgrade, goes to the router as an ordinary request: the `/signal`
/// route there answers DESIGN's JSON error (401 for a bad token), which the
/// WebSocket upgrader alone would answer with a bare 400.
struct SignalingChannel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        case signaling
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade to `/signal` refused: NIO's upgrader has consumed the
        /// request head, so the error is written here, not by the router.
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, APIError)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    /// Largest message the WebSocket layer assembles; DESIGN's frame limit
    /// (`ClientMessage.maxFrameBytes`, 32,000 bytes) is enforced above it so the
    /// client gets a `too-large` frame, not a dropped socket.
    static let transportLimit = 1 << 20

    let responder: HTTPChannelHandler.Responder
    let http1: HTTP1Channel.Configuration
    let hub: SignalingHub
    let metrics: ServerMetrics
    let settings: SignalingConnection.Settings
    /// The room a token admits, or why not (checked before the upgrade).
    let authorize: @Sendable (String) async -> Result<RoomClaims, APIError>
    let limits: HTTPLimits

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let meter = RequestLineMeter()
            try channel.pipeline.syncOperations.addHandler(ConnectionsPerAddress(counter: limits.connections), name: ConnectionsPerAddress.name)
            try channel.pipeline.syncOperations.addHandler(meter, name: RequestLineMeter.name)
            let admitted = NIOLoopBoundBox<Result<RoomClaims, APIError>?>(nil, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: Self.transportLimit,
                shouldUpgrade: { [authorize] channel, head in
                    guard Self.path(of: head.uri) == SignalingRoute.path else {
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                    let uri = head.uri
                    let check = channel.eventLoop.makePromise(of: Result<RoomClaims, APIError>.self)
                    check.completeWithTask { await authorize(uri) }
                    return check.futureResult.map { result -> HTTPHeaders? in
                        // Kept for the pipeline below (after the 101) or for the refusal.
                        admitted.value = result
                        if case .success = result { return [:] } else { return nil }
                    }
                },
                upgradePipelineHandler: { [hub, metrics, settings] channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .success(let claims) = admitted.value else { throw ChannelError.inappropriateOperationForState }
                        try channel.syncOptions?.setOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
                        let sync = channel.pipeline.syncOperations
                        // HTTP is over on this connection: its guards go (the
                        // WebSocket has its join timeout and pings).
                        for name in [RequestLineMeter.name, HTTPParseErrorResponder.name, HTTPRequestTimeout.name] {
                            sync.removeHandler(name: name, promise: nil)
                        }
                        try sync.addHandler(WebSocketFrameValidator())
                        try sync.addHandler(NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 256, maxAccumulatedFrameSize: Self.transportLimit))
                        try SignalingConnection.addHandlers(
                            to: sync, roomID: claims.roomID, maxPeers: claims.maxPeers, hub: hub, metrics: metrics, settings: settings,
                            logger: logger)
                        return UpgradeResult.signaling
                    }
                }
            )
            let notUpgraded = NIOTypedHTTPServerUpgradeConfiguration<UpgradeResult>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { [http1] channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try sync.addHandlers(http1.additionalChannelHandlers())
                        try sync.addHandler(HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        switch admitted.value {
                        case nil: return UpgradeResult.http(http)
                        case .failure(let error): return UpgradeResult.refused(http, error)
                        case .success: return UpgradeResult.refused(http, APIError(.badRequest, "bad-request", "the WebSocket handshake failed"))
                        }
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: notUpgraded)
            configuration.enablePipelining = false  // NIOAsyncChannel pipelines HTTP
            configuration.enableErrorHandling = false  // Hummingbird answers errors
            configuration.enableResponseHeaderValidation = false  // HTTPTypes validates
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            try channel.pipeline.syncOperations.addHandler(
                HTTPParseErrorResponder(meter: meter, maxFieldSize: http1.httpDecoder.maxHeaderFieldSize), name: HTTPParseErrorResponder.name)
            try channel.pipeline.syncOperations.addHandler(HTTPRequestTimeout(timeout: limits.requestTimeout), name: HTTPRequestTimeout.name)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let error):
                try await http.executeThenClose { _, outbound in
                    let body = error.body
                    let head = HTTPResponse(status: error.status, headerFields: [
                        .contentType: "application/json", .contentLength: "\(body.readableBytes)", .connection: "close",
                    ])
                    try await outbound.write(contentsOf: [.head(head), .body(body), .end(nil)])
                }
            case .signaling:
                // The socket lives on in its NIO pipeline; no task waits for it.
                break
            }
        } catch {
            logger.debug("connection ended before its first request", metadata: ["error": "\(error)"])
        }
    }

    static func path(of uri: String) -> Substring {
        uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with the `/signal` WebSocket upgrade of `SignalingChannel`.
    static func otter(hub: SignalingHub, metrics: ServerMetrics, settings: SignalingConnection.Settings,
                      limits: HTTPLimits,
                      authorize: @escaping @Sendable (String) async -> Result<RoomClaims, APIError>) -> HTTPServerBuilder {
        .init { responder in
            SignalingChannel(responder: responder, http1: .init(), hub: hub, metrics: metrics, settings: settings,
                             authorize: authorize, limits: limits)
        }
    }
}

/// What one server allows each connection: shared by all of them.
struct HTTPLimits: Sendable {
    /// A request (head and body) must arrive within this of the connection
    /// opening or of the previous response.
    let requestTimeout: TimeAmount
    let connections: ConnectionCounter
}
