import Logging
import OtterRelay
import ServiceLifecycle

/// The STUN/TURN relay inside `otter up`: the same server as `otter relay`,
/// with the TURN REST secret from the state store and the same quotas.
/// Local calls need loopback and private peers, so they are allowed while
/// `otter up` listens on a loopback address only; listening on the network
/// (`--host 0.0.0.0`), anyone with a room link could relay into this
/// machine's LAN, so the relay then refuses them, as `otter relay` does,
/// unless `--relay-allow-private-peers` says the LAN is meant.
public struct EmbeddedRelay: Service {
    let server: RelayServer
    let logger: Logger

    public static func configuration(for config: ServerConfiguration, turnSecret: String) -> RelayConfiguration {
        var c = RelayConfiguration()
        c.listeningIPs = [config.host]
        c.listeningPort = config.relayPort
        let wildcard = config.host == "0.0.0.0" || config.host == "::"
        c.relayIPs = wildcard ? [] : [config.host]
        // Relay sockets on every interface would be announced as 0.0.0.0:port,
        // which no browser can send to: announce the address the links use.
        if wildcard, isIPLiteral(config.relayHost) { c.externalIPs = [(public: config.relayHost, private: nil)] }
        c.realm = "otter"
        c.useAuthSecret = true
        c.staticAuthSecrets = [turnSecret]
        let privatePeers = allowsPrivatePeers(config)
        c.allowLoopbackPeers = privatePeers
        c.denyPrivatePeers = !privatePeers
        c.noTLS = true
        c.udpOnPump = config.relayUDPOnPump
        c.tcpDirectWrites = config.relayTCPDirectWrites
        return c
    }

    static func isIPLiteral(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return true }
        return host.contains(":") && host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }

    static func allowsPrivatePeers(_ config: ServerConfiguration) -> Bool {
        PeerPolicy.isLoopback(host: config.host) || config.relayAllowsPrivatePeers
    }

    /// The line `otter up` prints at start: which peers its relay reaches, and why.
    public static func peerPolicyLine(for config: ServerConfiguration) -> String {
        if PeerPolicy.isLoopback(host: config.host) {
            return "Relay peers: all, loopback and private included (otter up listens on \(config.host), this machine only)"
        }
        if config.relayAllowsPrivatePeers {
            return "Relay peers: all, loopback and private included (--relay-allow-private-peers) although \(config.host) is reachable from the network"
        }
        return "Relay peers: public addresses only; loopback and private ones are refused because \(config.host) is reachable from the network (--relay-allow-private-peers allows them)"
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
