#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything `otter relay` can be told, with coturn's defaults. Build it in
/// code (as `otter up` does) or from coturn flags / turnserver.conf with
/// `RelayConfiguration.parse(arguments:)`.
public struct RelayConfiguration: Sendable {
    public var listeningIPs: [String] = ["0.0.0.0"]
    /// 0 picks a free port (tests, embedding).
    public var listeningPort: Int = 3478
    public var tlsListeningPort: Int = 5349
    /// Not a coturn option: more TCP ports served like the listening port
    /// (TURN over TCP, and TLS when a certificate is set), e.g. 443 for
    /// networks that let nothing else out. `otter up --relay-tcp-port`.
    public var extraTCPPorts: [Int] = []
    public var certificateFile: String?
    public var privateKeyFile: String?
    /// Where relay sockets bind; defaults to the first listening IP.
    public var relayIPs: [String] = []
    /// `-X public` or `-X public/private`: the address advertised in
    /// XOR-RELAYED-ADDRESS when the relay sits behind 1:1 NAT (e.g. Fargate).
    public var externalIPs: [(public: String, private: String?)] = []
    public var minPort: Int = 49152
    public var maxPort: Int = 65535
    public var realm: String = "otter"
    public var useAuthSecret = false
    public var staticAuthSecrets: [String] = []
    public var longTermCredentials = false
    /// name → password, or name → "0x" + hex key (coturn's form).
    public var users: [String: String] = [:]
    /// Simultaneous allocations per user (coturn's user-quota); 0 means no
    /// limit, as in coturn. With use-auth-secret the user is the REST
    /// username without its timestamp (coturn's rule), so every credential a
    /// room hands out counts together. coturn's default is no limit; ours
    /// must hold a full room: 4 browsers x 3 peer connections x up to 4 TURN
    /// URLs (UDP, TCP, TCP 443, TLS) x 2 networks (Wi-Fi and Ethernet, or a
    /// VPN) = 96 allocations in Chromium, plus 32 for those a reload or an ICE
    /// restart leaves until they expire.
    public var userQuota = RelayConfiguration.defaultUserQuota
    /// Simultaneous allocations in all (coturn's total-quota); 0 means no
    /// limit. The port range bounds it too (508 when no port is left).
    public var totalQuota = RelayConfiguration.defaultTotalQuota
    /// Bytes per second per allocation and direction, 0 for unlimited (as coturn).
    public var maxBPS = 0
    /// Bytes per second all allocations may be granted together, per
    /// direction (coturn's bps-capacity); 0 for unlimited. Each Allocate is
    /// granted min(max-bps, what is left), 486 when nothing is left.
    public var bpsCapacity = 0
    /// Seconds a NONCE stays valid before 438 Stale Nonce.
    public var nonceLifetime = 600
    public var defaultAllocateLifetime = 600
    public var maxAllocateLifetime = 3600
    /// Seconds a TCP/TLS connection may stay open without an allocation
    /// (coturn's max-allocate-timeout, default 60) before it is closed.
    public var maxAllocateTimeout = 60
    public var channelLifetime = 600
    public var permissionLifetime = 300
    public var deniedPeerIPs: [IPRange] = []
    public var allowedPeerIPs: [IPRange] = []
    public var allowLoopbackPeers = false
    /// Not a coturn option: the built-in deny list of private, link-local,
    /// multicast and metadata ranges. `otter up` turns it off for LAN peers.
    public var denyPrivatePeers = true
    public var noUDP = false
    public var noTCP = false
    public var noTLS = false
    /// DTLS is never served; set (by --no-dtls) when the operator knows, so no warning is logged.
    public var noDTLS = false
    public var fingerprint = false
    public var software: String? = "otter-relay"
    public var logFile: String?
    public var verbose = false
    /// Port for `/metrics` and `/healthz`, nil for none.
    public var prometheusPort: Int?
    public var prometheusIP: String = "0.0.0.0"
    /// Not a coturn option (and no flag): bytes of relayed data a plain-TCP
    /// client may leave unread beyond the kernel's socket buffer before
    /// further datagrams for it are dropped whole (see StreamWriter).
    var tcpClientQueueLimit = 1 << 20
    /// Not coturn options (and no flags): on Linux, UDP and relay sockets run
    /// on the pump thread unless this is false (NIO's DatagramChannel, kept
    /// for comparison and as a fallback). Elsewhere there is no pump.
    public var udpOnPump = true
    /// Plain-TCP clients written straight from the engine (StreamWriter)
    /// unless this is false (writes and relay sockets stay on NIO). Needs the pump.
    public var tcpDirectWrites = true
    /// The CLI's switches for the two fields above: `OTTER_RELAY_UDP=nio` and
    /// `OTTER_RELAY_TCP=nio` (benchmarks compare the paths with them).
    /// Takes the environment as an argument so the module itself reads none.
    public mutating func applyIOPathSwitches(environment: [String: String]) {
        if environment["OTTER_RELAY_UDP"] == "nio" { udpOnPump = false }
        if environment["OTTER_RELAY_TCP"] == "nio" { tcpDirectWrites = false }
    }
    /// Pump shards (coturn's --relay-threads / -m), each a thread with its
    /// own UDP listener sockets (SO_REUSEPORT), relay sockets and state; nil
    /// is one. Not the cores, as coturn does: on the 2-core machine two
    /// shards cost 10–20 % more CPU per datagram below the ceiling, and no
    /// run there has shown them carrying more at it (docs/BENCHMARKS.md,
    /// goal 4), so more shards are the operator's choice.
    /// One without the pump.
    public var relayThreads: Int?

    /// How many pump shards the server runs.
    public var pumpShards: Int {
        #if os(Linux)
        guard udpOnPump else { return 1 }
        return max(1, relayThreads ?? 1)
        #else
        return 1
        #endif
    }
    /// Warnings about ignored options, for the caller to log.
    public var warnings: [String] = []

    public init() {}

    public static let defaultUserQuota = 128
    /// About 40 MB of relay state (21 KB an allocation, docs/NOTES-RELAY.md)
    /// and more allocations than one core can relay media for at once.
    public static let defaultTotalQuota = 2000

    public var peerPolicy: PeerPolicy {
        PeerPolicy(allowed: allowedPeerIPs, denied: deniedPeerIPs, allowLoopback: allowLoopbackPeers, denyPrivate: denyPrivatePeers)
    }

    /// Checks combinations that would only fail later, at the first client.
    public func validate() throws {
        guard minPort > 0, maxPort <= 65535, minPort <= maxPort else {
            throw RelayError(.badValue, "min-port \(minPort) / max-port \(maxPort): need 1 <= min-port <= max-port <= 65535")
        }
        if useAuthSecret && staticAuthSecrets.isEmpty {
            throw RelayError(.badValue, "use-auth-secret needs at least one static-auth-secret")
        }
        if !useAuthSecret && users.isEmpty {
            throw RelayError(.badValue, "no credentials: give use-auth-secret with static-auth-secret, or lt-cred-mech with user=name:password (unauthenticated relaying is not offered)")
        }
        if noUDP && noTCP && (noTLS || certificateFile == nil) {
            throw RelayError(.noListeners, "no-udp and no-tcp (and no TLS certificate) leave nothing to listen on")
        }
        if !noTLS, (certificateFile == nil) != (privateKeyFile == nil) {
            throw RelayError(.badValue, "TLS needs both cert and pkey")
        }
        if bpsCapacity > 0 && maxBPS == 0 {
            // coturn refuses this too: capacity is shared out in max-bps slices.
            throw RelayError(.badValue, "bps-capacity needs max-bps (each allocation is granted max-bps out of bps-capacity)")
        }
        if defaultAllocateLifetime <= 0 || maxAllocateLifetime <= 0 || channelLifetime <= 0 || permissionLifetime <= 0 || nonceLifetime <= 0 || maxAllocateTimeout <= 0 {
            throw RelayError(.badValue, "lifetimes must be positive seconds")
        }
    }

    /// TLS is served when a certificate is configured and not switched off.
    public var tlsEnabled: Bool { !noTLS && certificateFile != nil && privateKeyFile != nil }
}
