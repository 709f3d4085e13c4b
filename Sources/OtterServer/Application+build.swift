import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import OtterCore
import ServiceLifecycle

/// What the server runs on, made once at start and shared by every route.
public struct ServerState: Sendable {
    public let config: ServerConfiguration
    public let store: StateStore
    public let secrets: ServerSecrets
    public let tokens: RoomTokens
    public let hub: SignalingHub
    public let metrics: ServerMetrics

    public init(config: ServerConfiguration, store: StateStore, secrets: ServerSecrets, metrics: ServerMetrics = ServerMetrics()) async throws {
        self.config = config
        self.store = store
        self.secrets = secrets
        self.tokens = try await RoomTokens(signingSecret: secrets.signingSecret)
        self.hub = SignalingHub()
        self.metrics = metrics
    }
}

public typealias OtterRequestContext = BasicWebSocketRequestContext

/// The router with every route of `otter up`; tests drive it with HummingbirdTesting.
public func buildRouter(_ state: ServerState) -> Router<OtterRequestContext> {
    let router = Router(context: OtterRequestContext.self)
    router.add(middleware: JSONErrorMiddleware())
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: CORSMiddleware(allowOrigin: .originBased, allowHeaders: [.authorization, .contentType],
                                          allowMethods: [.get, .post, .options], maxAge: .seconds(600)))
    let auth = RequestAuth(store: state.store, tokens: state.tokens, metrics: state.metrics)
    RoomRoutes(config: state.config, store: state.store, tokens: state.tokens, secrets: state.secrets, auth: auth, metrics: state.metrics).register(on: router)
    KeyRoutes(store: state.store, auth: auth, metrics: state.metrics).register(on: router)
    OpsRoutes(store: state.store, metrics: state.metrics, openAPI: OpenAPIDocument.load()).register(on: router)
    WebAppRoutes(config: state.config).register(on: router)
    SignalingRoute(hub: state.hub, auth: auth, metrics: state.metrics, config: state.config).register(on: router)
    if let dir = state.config.webAppDirectory {
        router.add(middleware: FileMiddleware(dir, searchForIndexHtml: true))
    }
    return router
}

/// The whole HTTP + WebSocket application, ready to run or test.
public func buildApplication(_ state: ServerState, logger: Logger = Logger(label: "otter.server"),
                             services: [any Service] = []) -> some ApplicationProtocol {
    let router = buildRouter(state)
    var app = Application(
        router: router,
        server: .http1WebSocketUpgrade(webSocketRouter: router, configuration: .init(
            ws: .init(maxFrameSize: SignalingRoute.transportLimit, autoPing: .enabled(timePeriod: state.config.pingInterval)))),
        configuration: .init(address: .hostname(state.config.host, port: state.config.port), serverName: "otter"),
        logger: logger
    )
    app.addServices(RoomSweeper(store: state.store, logger: logger))
    for s in services { app.addServices(s) }
    return app
}

/// Deletes expired rooms every minute.
struct RoomSweeper: Service {
    let store: StateStore
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        let n = try store.sweepExpiredRooms()
                        if n > 0 { logger.info("swept expired rooms", metadata: ["count": "\(n)"]) }
                    } catch {
                        logger.error("room sweep failed", metadata: ["error": "\(error)"])
                    }
                    try await Task.sleep(for: .seconds(60))
                }
            }
        } catch is CancellationError {
            // shutting down
        }
    }
}
