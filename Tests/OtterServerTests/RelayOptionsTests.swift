import Logging
import OtterRelay
import Testing
@testable import OtterServer

/// `otter up --relay-tcp-port` and `--relay-tls-*`: what browsers are told
/// (the ICE servers' URLs) and what the embedded relay listens on.
struct RelayOptionsTests {
    static func config(tcp: Int? = nil, tls: Bool = false) -> ServerConfiguration {
        var c = ServerConfiguration(host: "127.0.0.1", port: 8080, relayPort: 3478, publicURL: "https://calls.example.com")
        c.relayTCPPort = tcp
        if tls {
            c.relayTLSCertificate = "/etc/otter/cert.pem"
            c.relayTLSKey = "/etc/otter/key.pem"
            c.relayTLSPort = 5349
        }
        return c
    }

    @Test func withoutOptionsUDPAndTCPOnTheRelayPort() {
        let c = Self.config()
        #expect(c.turnURLs == ["turn:calls.example.com:3478?transport=udp", "turn:calls.example.com:3478?transport=tcp"])
        let relay = EmbeddedRelay.configuration(for: c, turnSecret: "s")
        #expect(relay.extraTCPPorts.isEmpty)
        #expect(!relay.tlsEnabled)
    }

    @Test func extraTCPPortAndTLSAreListedAfterTheRelayPortInTheCloudsOrder() {
        let c = Self.config(tcp: 443, tls: true)
        #expect(c.turnURLs == ["turn:calls.example.com:3478?transport=udp", "turn:calls.example.com:3478?transport=tcp",
                               "turn:calls.example.com:443?transport=tcp", "turns:calls.example.com:5349?transport=tcp"])
        let relay = EmbeddedRelay.configuration(for: c, turnSecret: "s")
        #expect(relay.extraTCPPorts == [443])
        #expect(relay.tlsEnabled && relay.tlsListeningPort == 5349)
        #expect(relay.certificateFile == "/etc/otter/cert.pem" && relay.privateKeyFile == "/etc/otter/key.pem")
        #expect(relay.noDTLS, "browsers never ask for DTLS, so no warning about it")
    }

    @Test func theExtraTCPPortIsBoundAndReportedAndARestartBindsItAgain() async throws {
        var c = ServerConfiguration(host: "127.0.0.1", port: 8080, relayPort: 0)
        c.relayTCPPort = 0
        let relay = EmbeddedRelay(config: c, turnSecret: "s", logger: Logger(label: "test"))
        let bound = try await relay.start()
        #expect(bound.tcp != nil && bound.extraTCP.count == 1 && bound.extraTCP[0] != bound.tcp)
        try await relay.restart()
        try await relay.server.withLockedValue { $0 }.shutdown()
    }
}
