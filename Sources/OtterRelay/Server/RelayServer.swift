import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// The TURN/STUN relay as a library: `otter relay` runs it alone, `otter up`
/// embeds it. Its NIO sockets (TCP/TLS, metrics, fallbacks) live on one event
/// loop of the given group (or of a one-thread group it owns); on Linux the
/// data path runs on `configuration.pumpShards` pump threads, each with its
/// own engine shard (RelayEngine): UDP clients are spread by the kernel
/// (SO_REUSEPORT listeners), TCP/TLS connections in turn as accepted.
public final class RelayServer: Sendable {
    /// The ports actually bound (useful when the configuration asked for 0).
    public struct BoundPorts: Sendable, Equatable {
        public var udp: Int?
        public var tcp: Int?
        public var tls: Int?
        /// One per RelayConfiguration.extraTCPPorts, in its order.
        public var extraTCP: [Int] = []
        public var prometheus: Int?
    }

    public let configuration: RelayConfiguration
    private let shards: [RelayEngine]
    /// Shard 0: the only one without the pump, and the owner of the loop-side sockets.
    private var engine: RelayEngine { shards[0] }
    /// The next shard to take a TCP/TLS connection.
    private let nextStreamShard = NIOLockedValueBox(0)
    private let ownedGroup: MultiThreadedEventLoopGroup?
    private let channels = NIOLockedValueBox<[Channel]>([])
    private let logger: Logger

    public init(configuration: RelayConfiguration, eventLoopGroup: EventLoopGroup? = nil,
                logger: Logger = Logger(label: "otter.relay")) {
        self.configuration = configuration
        self.logger = logger
        let group: EventLoopGroup
        if let g = eventLoopGroup {
            group = g
            ownedGroup = nil
        } else {
            let g = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            group = g
            ownedGroup = g
        }
        let loop = group.next()
        let auth = Authenticator(configuration: configuration)
        let quotas = QuotaLedger(configuration: configuration)
        let reservations = ReservationStore()
        shards = (0..<configuration.pumpShards).map { _ in
            RelayEngine(loop: loop, config: configuration, auth: auth, quotas: quotas, reservations: reservations, logger: logger)
        }
    }

    /// How many pump shards run (1 without the pump).
    public var shardCount: Int { shards.count }

    /// Binds every listener. Throws a RelayError naming the address that failed.
    @discardableResult
    public func start() async throws -> BoundPorts {
        let c = configuration
        try c.validate()
        for w in c.warnings { logger.warning("\(w)") }
        if c.tlsEnabled && !c.noDTLS {
            // coturn would also answer DTLS on these ports; say so instead of leaving DTLS clients to time out.
            logger.warning("DTLS is not served: TURN over TLS is on TCP only (what browsers use for turns: URLs); DTLS clients such as `turnutils_uclient -S` without -t cannot connect. Pass --no-dtls to silence this.")
        }
        let loop = engine.loop
        var bound = BoundPorts()
        var opened: [Channel] = []
        #if os(Linux)
        // Also with --no-udp: TCP clients' relay sockets live in the pumps.
        let pumps = Self.pumpEnabled(c) ? try shards.map { _ in try UDPPump() } : []
        let usesPump = !pumps.isEmpty
        #else
        let usesPump = false
        #endif
        do {
            for (index, ip) in c.listeningIPs.enumerated() {
                var port = c.listeningPort
                #if os(Linux)
                if usesPump, !c.noUDP {
                    port = try bindPumpListeners(ip: ip, port: port, index: index, pumps: pumps)
                    bound.udp = bound.udp ?? port
                }
                #endif
                if !c.noUDP && !usesPump {
                    let p = port
                    let ch = try await bind { try await self.bindUDP(ip: ip, port: p, index: index) }(ip, p, "UDP")
                    opened.append(ch)
                    // With port 0, TCP takes the port UDP got, as clients expect one number.
                    port = ch.localAddress?.port ?? port
                    bound.udp = bound.udp ?? port
                }
                if !c.noTCP {
                    let p = port
                    // With TLS configured, the plain port also accepts TLS, as coturn's does.
                    let sniff = c.tlsEnabled ? try makeTLSContext() : nil
                    let ch = try await bind { try await self.bindStream(ip: ip, port: p, tls: nil, sniffTLS: sniff) }(ip, p, "TCP")
                    opened.append(ch)
                    bound.tcp = bound.tcp ?? ch.localAddress?.port
                }
                for p in c.extraTCPPorts {
                    let sniff = c.tlsEnabled ? try makeTLSContext() : nil
                    let ch = try await bind { try await self.bindStream(ip: ip, port: p, tls: nil, sniffTLS: sniff) }(ip, p, "TCP")
                    opened.append(ch)
                    if index == 0 { bound.extraTCP.append(ch.localAddress?.port ?? p) }
                }
                if c.tlsEnabled {
                    let context = try makeTLSContext()
                    let ch = try await bind { try await self.bindStream(ip: ip, port: c.tlsListeningPort, tls: context, sniffTLS: nil) }(ip, c.tlsListeningPort, "TLS")
                    opened.append(ch)
                    bound.tls = bound.tls ?? ch.localAddress?.port
                }
            }
            if let p = c.prometheusPort {
                let ch = try await bind { try await self.bindMetrics(ip: c.prometheusIP, port: p) }(c.prometheusIP, p, "metrics")
                opened.append(ch)
                bound.prometheus = ch.localAddress?.port
            }
        } catch {
            for ch in opened { try? await ch.close() }
            closePumpListeners()
            throw error
        }
        channels.withLockedValue { $0 = opened }
        #if os(Linux)
        for (i, (shard, pump)) in zip(shards, pumps).enumerated() {
            shard.lock.withLock { shard.pump = pump }
            try pump.start(engine: shard, shard: i)
        }
        #endif
        try await loop.submit { for shard in self.shards { shard.lock.withLock { shard.startSweeping() } } }.get()
        logger.info("otter relay listening", metadata: [
            "udp": "\(bound.udp.map(String.init) ?? "-")", "tcp": "\(bound.tcp.map(String.init) ?? "-")",
            "tls": "\(bound.tls.map(String.init) ?? "-")",
            "extra-tcp": "\(bound.extraTCP.isEmpty ? "-" : bound.extraTCP.map(String.init).joined(separator: ","))", "realm": "\(c.realm)",
            "relay-ports": "\(c.minPort)-\(c.maxPort)", "relay-threads": "\(shards.count)",
            // 0 is coturn's "no limit"; the defaults are finite (RelayConfiguration).
            "user-quota": "\(c.userQuota)", "total-quota": "\(c.totalQuota)", "max-bps": "\(c.maxBPS)",
            // What peers are told to send to: worth seeing when a relayed call fails.
            "external-ip": "\(c.externalIPs.isEmpty ? "-" : c.externalIPs.map(\.public).joined(separator: ","))",
        ])
        return bound
    }

    public func shutdown() async throws {
        let open = channels.withLockedValue { chs in
            defer { chs = [] }
            return chs
        }
        #if os(Linux)
        // First stop the pump threads, so nothing reads a socket closed below.
        for shard in shards { shard.lock.withLock { shard.pump }?.stop() }
        #endif
        for ch in open { try? await ch.close() }
        try await engine.loop.submit { for shard in self.shards { shard.lock.withLock { shard.stop() } } }.get()
        closePumpListeners()
        if let g = ownedGroup { try await g.shutdownGracefully() }
    }

    /// Counters in Prometheus text form (also served on --prometheus).
    public func metricsText() async throws -> String {
        try await engine.loop.submit { self.currentMetricsText() }.get()
    }

    /// Each shard's counters read under its own lock, one at a time.
    private func currentMetricsText() -> String {
        RelayMetrics.total(shards.map { shard in shard.lock.withLock { shard.metrics } }).prometheusText()
    }

    /// UDP through the pump (Linux) unless the configuration asks for
    /// NIO's DatagramChannel (kept for comparison and as a fallback).
    static func pumpEnabled(_ c: RelayConfiguration) -> Bool {
        #if os(Linux)
        return c.udpOnPump
        #else
        return false
        #endif
    }

    /// Plain-TCP clients written straight from the engine (StreamWriter)
    /// unless the configuration keeps their writes and relay sockets on
    /// NIO (for comparison and as a fallback). Needs the pump.
    public static func directStreamsEnabled(_ c: RelayConfiguration) -> Bool {
        #if os(Linux)
        return pumpEnabled(c) && c.tcpDirectWrites
        #else
        return false
        #endif
    }

    private func closePumpListeners() {
        for shard in shards {
            let fds: [CInt] = shard.lock.withLock {
                defer { shard.pumpListeners.forEach { $0.fd = -1 } }
                return shard.pumpListeners.map(\.fd).filter { $0 >= 0 }
            }
            for fd in fds { close(fd) }
        }
    }

    #if os(Linux)
    /// One UDP socket per shard on `ip:port`, in each shard's pump as
    /// listener `index`; returns the port (the one the kernel chose for 0).
    /// With several shards they are SO_REUSEPORT siblings, so first the port
    /// is bound alone: another process (even another relay with
    /// SO_REUSEPORT) already on it is an error, not a silent share.
    private func bindPumpListeners(ip: String, port: Int, index: Int, pumps: [UDPPump]) throws -> Int {
        func listen(_ port: Int, reusePort: Bool) throws -> CInt {
            do {
                return try RawDatagram.bind(ip: ip, port: port, receiveBuffer: 1 << 22, sendBuffer: 1 << 22, reusePort: reusePort)
            } catch {
                throw RelayError(.bindFailed, "cannot listen on UDP \(ip):\(port): \(error)")
            }
        }
        var port = port
        if shards.count > 1 {
            let probe = try listen(port, reusePort: false)
            port = RawDatagram.localAddress(probe).map { Int($0.port) } ?? port
            close(probe)
        }
        for (shard, pump) in zip(shards, pumps) {
            let fd = try listen(port, reusePort: shards.count > 1)
            shard.lock.withLock { shard.pumpListeners.append(UDPListener(fd: fd)) }
            guard pump.add(fd: fd, token: UDPPump.listenerBase + UInt64(index)) else {
                throw RelayError(.bindFailed, "cannot listen on UDP \(ip):\(port): epoll_ctl errno \(errno)")
            }
            // With port 0, the next shards and TCP take the port UDP got, as clients expect one number.
            port = RawDatagram.localAddress(fd).map { Int($0.port) } ?? port
        }
        return port
    }
    #endif

    /// TCP/TLS connections go to the shards in turn.
    private func streamShard() -> RelayEngine {
        guard shards.count > 1 else { return engine }
        return shards[nextStreamShard.withLockedValue { n in
            defer { n = (n + 1) % shards.count }
            return n
        }]
    }

    private func bind(_ op: @escaping @Sendable () async throws -> Channel) -> @Sendable (String, Int, String) async throws -> Channel {
        { ip, port, what in
            do { return try await op() } catch {
                throw RelayError(.bindFailed, "cannot listen on \(what) \(ip):\(port): \(error)")
            }
        }
    }

    private func bindUDP(ip: String, port: Int, index: Int) async throws -> Channel {
        let engine = self.engine
        // No SO_REUSEADDR on UDP: with it a relay socket could bind the
        // listener's own port and steal its datagrams.
        return try await DatagramBootstrap(group: engine.loop)
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 22)
            .channelOption(.socketOption(.so_sndbuf), value: 1 << 22)
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelOption(.datagramVectorReadMessageCount, value: RelayEngine.listenerVectorReadCount)
            // With vector reads NIO cuts this buffer into one slot per datagram.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(
                capacity: RelayEngine.datagramBufferSize * RelayEngine.listenerVectorReadCount))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(UDPListenerHandler(engine: engine, index: index))
                }
            }
            .bind(host: ip, port: port).get()
    }

    private func bindStream(ip: String, port: Int, tls: NIOSSLContext?, sniffTLS: NIOSSLContext?) async throws -> Channel {
        try await ServerBootstrap(group: engine.loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let tls {
                        try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    } else if let sniffTLS {
                        try ch.pipeline.syncOperations.addHandler(TLSSniffingHandler(tls: sniffTLS))
                    }
                    try ch.pipeline.syncOperations.addHandler(StreamClientHandler(engine: self.streamShard()))
                }
            }
            .bind(host: ip, port: port).get()
    }

    private func bindMetrics(ip: String, port: Int) async throws -> Channel {
        try await ServerBootstrap(group: engine.loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(MetricsHTTPHandler { [self] in self.currentMetricsText() })
                }
            }
            .bind(host: ip, port: port).get()
    }

    private func makeTLSContext() throws -> NIOSSLContext {
        guard let cert = configuration.certificateFile, let key = configuration.privateKeyFile else {
            throw RelayError(.tls, "TLS needs cert and pkey")
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            // NIOSSL would accept TLS 1.0 and 1.1; coturn 4.6 (OpenSSL 3) refuses
            // them and browsers no longer offer them.
            tls.minimumTLSVersion = .tlsv12
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw RelayError(.tls, "cannot load TLS certificate '\(cert)' or key '\(key)': \(error)")
        }
    }
}

extension RelayServer {
    /// Each shard's live allocations (tests and diagnostics).
    func allocationsPerShard() -> [Int] {
        shards.map { shard in shard.lock.withLock { shard.allocations.count } }
    }

    /// The shard holding the allocation of the UDP client at `port`, if any.
    func shard(ofUDPClientPort port: Int) -> Int? {
        shards.firstIndex { shard in
            shard.lock.withLock {
                shard.allocations.keys.contains { key in
                    if case .udp(_, let remote) = key { return Int(remote.port) == port }
                    return false
                }
            }
        }
    }
}
