import Foundation
import OtterCore

/// Everything `otter up` needs to know to serve; built from the command line.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var relayPort: Int
    /// Base URL people and other machines use to reach this server; defaults to http://host:port.
    public var publicURL: String?
    public var dataDirectory: String
    public var webAppDirectory: String?
    /// Sustained signaling messages per second per socket, and the burst allowed above it.
    public var signalRate: Double
    public var signalBurst: Double
    public var iceTTL: TimeInterval
    public var pingInterval: Duration
    /// Let the embedded relay reach loopback and private peers although
    /// `host` is not a loopback address (`otter up --relay-allow-private-peers`).
    /// On a loopback host they are always allowed (see EmbeddedRelay).
    public var relayAllowsPrivatePeers = false
    /// A second TCP port for the embedded relay (`--relay-tcp-port`, e.g. 443
    /// for networks that let only that out), advertised as a `turn:` URL.
    public var relayTCPPort: Int?
    /// TURN over TLS (`--relay-tls-cert/--relay-tls-key`) on `relayTLSPort`,
    /// advertised as a `turns:` URL; the certificate must name `relayHost`.
    public var relayTLSCertificate: String?
    public var relayTLSKey: String?
    public var relayTLSPort = 5349
    /// The embedded relay's I/O paths (RelayConfiguration.udpOnPump and
    /// tcpDirectWrites); the CLI turns them off with OTTER_RELAY_UDP/TCP=nio.
    public var relayUDPOnPump = true
    public var relayTCPDirectWrites = true
    /// A request must arrive within this (slowloris); see docs/SECURITY.md.
    public var requestTimeout: Duration = .seconds(10)
    /// A signaling socket must send `join` within this.
    public var joinTimeout: Duration = .seconds(10)
    /// Open connections (HTTP and WebSocket) one client address may hold.
    public var maxConnectionsPerAddress = 64

    public init(host: String = "127.0.0.1", port: Int = 8080, relayPort: Int = 3478, publicURL: String? = nil,
                dataDirectory: String = ".otter", webAppDirectory: String? = nil,
                signalRate: Double = 200, signalBurst: Double = 2000, iceTTL: TimeInterval = TurnCredentials.defaultTTL,
                pingInterval: Duration = .seconds(30)) {
        self.host = host
        self.port = port
        self.relayPort = relayPort
        self.publicURL = publicURL
        self.dataDirectory = dataDirectory
        self.webAppDirectory = webAppDirectory
        self.signalRate = signalRate
        self.signalBurst = signalBurst
        self.iceTTL = iceTTL
        self.pingInterval = pingInterval
    }

    /// The public base URL without a trailing slash.
    public var baseURL: String {
        var u = publicURL ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        while u.hasSuffix("/") { u.removeLast() }
        return u
    }

    /// `ws(s)://…/signal`, derived from the public URL.
    public var signalURL: String {
        let b = baseURL
        if b.hasPrefix("https://") { return "wss://" + b.dropFirst("https://".count) + "/signal" }
        if b.hasPrefix("http://") { return "ws://" + b.dropFirst("http://".count) + "/signal" }
        return b + "/signal"
    }

    /// Host name browsers use for STUN/TURN: the public URL's host.
    public var relayHost: String {
        URL(string: baseURL)?.host ?? host
    }

    public var stunURLs: [String] { ["stun:\(relayHost):\(relayPort)"] }
    /// The relay's TLS listener is on when both files are given.
    public var relayTLSEnabled: Bool { relayTLSCertificate != nil && relayTLSKey != nil }

    /// In the order browsers should try them (the cloud's TurnUrls order):
    /// UDP, TCP, the extra TCP port, then TLS.
    public var turnURLs: [String] {
        let host = relayHost
        var urls = ["turn:\(host):\(relayPort)?transport=udp", "turn:\(host):\(relayPort)?transport=tcp"]
        if let p = relayTCPPort { urls.append("turn:\(host):\(p)?transport=tcp") }
        if relayTLSEnabled { urls.append("turns:\(host):\(relayTLSPort)?transport=tcp") }
        return urls
    }
}
