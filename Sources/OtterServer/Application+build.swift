import Foundation
import Hummingbird
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

    public var rooms: Rooms { Rooms(store: store, tokens: tokens, baseURL: config.baseURL) }
}

public typealias OtterRequestContext = BasicRequestContext

/// The router with every route of `otter up`; tests drive it with HummingbirdTesting.
public func buildRouter(_ state: ServerState) -> Router<OtterRequestContext> {
    let router = Router(context: OtterRequestContext.self)
    // CORS outermost: it wraps the errors it sees (to add its headers), so it
    // must see them after JSONErrorMiddleware has made them DESIGN's JSON errors.
    router.add(middleware: CORSMiddleware(allowOrigin: .originBased, allowHeaders: [.authorization, .contentType],
                                          allowMethods: [.get, .post, .options], maxAge: .seconds(600)))
    router.add(middleware: JSONErrorMiddleware())
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: MethodNotAllowedMiddleware())
    let auth = RequestAuth(state)
    RoomRoutes(config: state.config, rooms: state.rooms, secrets: state.secrets, auth: auth, metrics: state.metrics).register(on: router)
    KeyRoutes(store: state.store, auth: auth, metrics: state.metrics).register(on: router)
    OpsRoutes(store: state.store, metrics: state.metrics, openAPI: OpenAPIDocument.load()).register(on: router)
    WebAppRoutes(config: state.config).register(on: router)
    SignalingRoute(auth: auth).register(on: router)
    if let dir = state.config.webAppDirectory {
        router.add(middleware: FileMiddleware(dir, searchForIndexHtml: true))
    }
    return router
}

/// The whole HTTP + WebSocket application, ready to test (`app.test`) or to
/// run inside `serviceGroup(…)`.
public func buildApplication(_ state: ServerState, logger: Logger = Logger(label: "otter.server"),
                             onServerRunning: @escaping @Sendable () async -> Void = {}) -> some ApplicationProtocol {
    let router = buildRouter(state)
    let app = Application(
        router: router,
        server: .otter(
            hub: state.hub, metrics: state.metrics,
            settings: .init(pingInterval: TimeAmount(state.config.pingInterval), rate: state.config.signalRate, burst: state.config.signalBurst,
                            joinTimeout: TimeAmount(state.config.joinTimeout)),
            limits: HTTPLimits(requestTimeout: TimeAmount(state.config.requestTimeout),
                               connections: ConnectionCounter(limit: state.config.maxConnectionsPerAddress)),
            authorize: { [auth = RequestAuth(state)] uri in await SignalingRoute.admit(uri: uri, auth: auth) }),
        configuration: .init(address: .hostname(state.config.host, port: state.config.port), serverName: "otter"),
        onServerRunning: { _ in await onServerRunning() },
        logger: logger
    )
    return app
}

/// Everything `otter up` runs, in shutdown order: a signal first closes the
/// signaling sockets (1001), then the HTTP server drains, then the sweeper and
/// the relay stop.
public func serviceGroup(app: some ApplicationProtocol, state: ServerState, relay: (any Service)?,
                         logger: Logger) -> ServiceGroup {
    var services: [any Service] = []
    if let relay { services.append(relay) }
    services += [RoomSweeper(store: state.store, logger: logger), app, SignalingCloser(hub: state.hub)]
    var config = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    // A client that never answers the close handshake must not keep the
    // process alive: after this, what is left is cancelled.
    config.maximumGracefulShutdownDuration = .seconds(5)
    config.maximumCancellationDuration = .seconds(2)
    return ServiceGroup(configuration: config)
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

/// On graceful shutdown, closes every signaling socket with 1001 so the HTTP
/// server is not left waiting for long-lived WebSockets.
struct SignalingCloser: Service {
    let hub: SignalingHub

    func run() async throws {
        try? await gracefulShutdown()
        hub.closeAll()
    }
}
