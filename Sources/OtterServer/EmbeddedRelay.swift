import Foundation
import Logging
import NIOConcurrencyHelpers
import OtterRelay
import ServiceLifecycle

/// The STUN/TURN relay inside `otter up`: the same server as `otter relay`,
/// with the TURN REST secret from the state store and the same quotas.
/// Local calls need loopback and private peers, so they are allowed while
/// `otter up` listens on a loopback address only; listening on the network
/// (`--host 0.0.0.0`), anyone with a room link could relay into this
/// machine's LAN, so the relay then refuses them, as `otter relay` does,
/// unless `--relay-allow-private-peers` says the LAN is meant.
///
/// SIGHUP restarts the relay alone (signaling stays up): it re-reads its TLS
/// certificate, which is how a renewed one takes effect, and drops every
/// allocation; calls through it recover by an ICE restart.
public final class EmbeddedRelay: Service, Sendable {
    let configuration: RelayConfiguration
    let server: NIOLockedValueBox<RelayServer>
    let logger: Logger
    let hangups = NIOLockedValueBox<HangupSource?>(nil)
    let restarts: AsyncStream<Void>
    let requestRestart: AsyncStream<Void>.Continuation

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
        c.extraTCPPorts = config.relayTCPPort.map { [$0] } ?? []
        if config.relayTLSEnabled {
            c.certificateFile = config.relayTLSCertificate
            c.privateKeyFile = config.relayTLSKey
            c.tlsListeningPort = config.relayTLSPort
            // Browsers speak TLS over TCP for turns: URLs; DTLS is never asked for.
            c.noDTLS = true
        } else {
            c.noTLS = true
        }
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
        configuration = Self.configuration(for: config, turnSecret: turnSecret)
        server = NIOLockedValueBox(RelayServer(configuration: configuration, logger: logger))
        self.logger = logger
        (restarts, requestRestart) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Binds now, so a port clash is reported before the links are printed,
    /// and from now on SIGHUP restarts the relay.
    public func start() async throws -> RelayServer.BoundPorts {
        let bound = try await server.withLockedValue { $0 }.start()
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { [requestRestart] in requestRestart.yield() }
        source.resume()
        hangups.withLockedValue { $0 = HangupSource(source: source) }
        return bound
    }

    /// Stops the relay (every allocation goes) and starts a new one on the
    /// same ports, with the certificate files read again.
    public func restart() async throws {
        let old = server.withLockedValue { $0 }
        try await old.shutdown()
        let fresh = RelayServer(configuration: configuration, logger: logger)
        server.withLockedValue { $0 = fresh }
        // The ports were just closed; a listener may need a moment to be free again.
        var attempt = 0
        while true {
            do {
                try await fresh.start()
                break
            } catch {
                attempt += 1
                if attempt >= 20 { throw error }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        logger.notice("relay restarted: allocations dropped, TLS certificate read again")
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            for await _ in self.restarts {
                do { try await self.restart() } catch {
                    self.logger.error("relay restart failed: \(error). STUN/TURN is down until otter up is restarted.")
                }
            }
        }
        hangups.withLockedValue { $0?.source.cancel() }
        try await server.withLockedValue { $0 }.shutdown()
    }
}

/// Dispatch sources are thread-safe but not marked Sendable.
struct HangupSource: @unchecked Sendable {
    let source: any DispatchSourceSignal
}
