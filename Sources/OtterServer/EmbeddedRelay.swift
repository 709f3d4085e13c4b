import Logging
import OtterRelay
import ServiceLifecycle

/// The STUN/TURN relay inside `otter up`: the same server as `otter relay`,
/// with the TURN REST secret from the state store. Peers of a local stack are
/// on this machine or its LAN, so loopback and private peers are allowed here
/// (the standalone relay refuses them by default).
public struct EmbeddedRelay: Service {
    let server: RelayServer
    let logger: Logger

    public static func configuration(for config: ServerConfiguration, turnSecret: String) -> RelayConfiguration {
        var c = RelayConfiguration()
        c.listeningIPs = [config.host]
        c.listeningPort = config.relayPort
        c.relayIPs = config.host == "0.0.0.0" || config.host == "::" ? [] : [config.host]
        c.realm = "otter"
        c.useAuthSecret = true
        c.staticAuthSecrets = [turnSecret]
        c.allowLoopbackPeers = true
        c.denyPrivatePeers = false
        c.noTLS = true
        return c
    }

    public init(config: ServerConfiguration, turnSecret: String, logger: Logger) {
        self.server = RelayServer(configuration: Self.configuration(for: config, turnSecret: turnSecret), logger: logger)
        self.logger = logger
    }

    /// Binds now, so a port clash is reported before the links are printed.
    public func start() async throws -> RelayServer.BoundPorts {
        try await server.start()
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await server.shutdown()
    }
}
