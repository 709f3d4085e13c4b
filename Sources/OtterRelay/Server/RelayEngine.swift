#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import NIOPosix

/// The TURN server's state and logic for one pump shard. TCP/TLS
/// connections, NIO relay sockets and timers run on `loop`; on Linux the
/// shard's UDP listeners (one per listening address, SO_REUSEPORT siblings
/// of the other shards') and the relay sockets of its UDP and plain-TCP
/// clients run on its pump's thread (which also writes to plain-TCP clients,
/// see StreamWriter). Every entry point takes `lock` (handlers, future
/// callbacks, timers, the pump per batch), so one thread at a time owns the
/// shard and a relayed UDP packet crosses no thread. What the shards share
/// (nonce key, quotas, reservations) is read-only or has its own lock, taken
/// only on Allocate and free. `@unchecked Sendable` is sound because of `lock`.
final class RelayEngine: @unchecked Sendable {
    let loop: EventLoop
    let lock = RecursiveLock()
    let config: RelayConfiguration
    let auth: Authenticator
    let policy: PeerPolicy
    let logger: Logger
    let relayBindIP: String
    /// Public address advertised for a relay bound to a private address (-X).
    let externalIP: STUNAddress.IP?
    /// Shared by every shard (see QuotaLedger, ReservationStore).
    let quotas: QuotaLedger
    let reservations: ReservationStore
    var allocations: [ClientKey: Allocation] = [:]
    /// Allocates still binding their relay socket, with the quota each took.
    var pending: [ClientKey: QuotaGrant] = [:]
    var dirty: [Allocation] = []
    var metrics = RelayMetrics()
    var sweepTask: RepeatedTask?
    /// Listeners whose sockets the UDP pump reads, by listener index.
    var pumpListeners: [UDPListener] = []
    /// Allocations whose relay socket the UDP pump reads, by pump token.
    var pumpRelays: [UInt64: Allocation] = [:]
    var nextPumpToken: UInt64 = 1
    /// Plain-TCP clients' writers by pump token (the pump drains them on EPOLLOUT).
    var pumpWriters: [UInt64: StreamWriter] = [:]
    #if os(Linux)
    var pump: UDPPump?
    /// The pump's send batch: datagrams it relays from its receive slots or
    /// stream buffer (`buffer` nil) wait there for one sendmmsg per socket.
    var batch: DatagramBatch?
    #endif

    /// Built once from the named attribute list (a lazy global), never per datagram.
    static let knownAttributes: Set<UInt16> = Set(STUNAttributeType.understoodComprehensionRequired.map(\.rawValue))

    init(loop: EventLoop, config: RelayConfiguration, auth: Authenticator, quotas: QuotaLedger,
         reservations: ReservationStore, logger: Logger) {
        self.loop = loop
        self.config = config
        self.auth = auth
        self.quotas = quotas
        self.reservations = reservations
        self.policy = config.peerPolicy
        self.logger = logger
        let bindIP = config.relayIPs.first ?? config.listeningIPs.first ?? "0.0.0.0"
        self.relayBindIP = bindIP
        var ext: STUNAddress.IP?
        for e in config.externalIPs where e.private == nil || e.private == bindIP {
            ext = IPRange.parseIP(e.public)
            break
        }
        self.externalIP = ext
    }

    func startSweeping() {
        sweepTask = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
            self.lock.withLock { self.sweep(now: .now()) }
        }
    }

    func stop() {
        sweepTask?.cancel()
        for a in Array(allocations.values) { remove(a, reason: "shutdown") }
        for w in Array(pumpWriters.values) { w.close() }
        pumpWriters.removeAll()
        for grant in pending.values { releaseQuota(grant) }
        pending.removeAll()
        for socket in reservations.removeAll() { closeUnused(socket) }
    }

    // MARK: Inbound from clients

    /// A datagram on a UDP listener: ChannelData on the hot path, else STUN.
    @inline(__always)
    func clientDatagram(listener: UDPListener, index: Int, remote: SocketAddress, data: ByteBuffer) {
        guard let first = data.getInteger(at: data.readerIndex, as: UInt8.self),
              let address = STUNAddress(remote) else { return }
        let key = ClientKey.udp(listener: index, remote: address)
        if ChannelData.isChannelData(firstByte: first) {
            guard let (channel, payload) = ChannelData.parse(data) else { metrics.malformed += 1; return }
            guard let a = allocations[key] else { return }
            channelDataFromClient(a, channel: channel, payload: payload)
        } else if first & 0xC0 == 0 {
            stunFromClient(data, key: key, link: .udp(listener: listener, remote: remote))
        } else {
            metrics.malformed += 1
        }
    }

    /// A datagram the UDP pump read from a listener, still in its receive
    /// slot: ChannelData is relayed from there; STUN is copied out (the
    /// control plane keeps NIO types).
    @inline(__always)
    func pumpClientDatagram(listener: UDPListener, index: Int, from name: UnsafePointer<sockaddr_storage>,
                            length: socklen_t, bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first, let address = STUNAddress(sockaddr: name) else { return }
        let key = ClientKey.udp(listener: index, remote: address)
        if ChannelData.isChannelData(firstByte: first) {
            guard let (number, length) = ChannelData.parseHeader(bytes) else { metrics.malformed += 1; return }
            guard let a = allocations[key], let binding = a.channels[number] else { return }
            guard a.permissions[binding.peer.ip] != nil else { metrics.droppedNoPermission += 1; return }
            var peer = binding.peerSocket
            sendToPeer(a, peer: &peer, bytes: UnsafeRawBufferPointer(rebasing: bytes[ChannelData.headerSize..<ChannelData.headerSize + length]), buffer: nil)
        } else if first & 0xC0 == 0 {
            guard let remote = try? address.socketAddress() else { return }
            stunFromClient(ByteBuffer(bytes: bytes), key: key, link: .udp(listener: listener, remote: remote))
        } else {
            metrics.malformed += 1
        }
    }

    func streamFrame(_ frame: TURNFrame, channel: Channel, writer: StreamWriter?) {
        let key = ClientKey.stream(ObjectIdentifier(channel))
        switch frame {
        case .channelData(let number, let payload):
            guard let a = allocations[key] else { return }
            channelDataFromClient(a, channel: number, payload: payload)
        case .stun(let bytes):
            stunFromClient(bytes, key: key, link: .stream(channel, writer))
        }
    }

    /// A writer for a plain-TCP connection, or nil to keep writing through
    /// NIO (TLS, no pump, tcpDirectWrites off). Call on the channel's loop
    /// before the connection's first frame, so every write takes one path.
    func makeStreamWriter(channel: Channel, tls: Bool) -> StreamWriter? {
        #if os(Linux)
        guard !tls, RelayServer.directStreamsEnabled(config) else { return nil }
        let fd = RawDatagram.descriptor(of: channel)
        return lock.withLock {
            guard let pump else { return nil }
            let token = UDPPump.writerBase + nextPumpToken
            guard let w = StreamWriter(channel: channel, channelFD: fd, token: token, epfd: pump.epfd,
                                       queueLimit: config.tcpClientQueueLimit) else { return nil }
            nextPumpToken += 1
            pumpWriters[token] = w
            return w
        }
        #else
        return nil
        #endif
    }

    /// For the allocation watchdog of TCP/TLS connections; an Allocate still
    /// binding its relay socket counts as one.
    func hasAllocation(streamChannel channel: Channel) -> Bool {
        let key = ClientKey.stream(ObjectIdentifier(channel))
        return allocations[key] != nil || pending[key] != nil
    }

    /// After the connection's first read: the pump reads it from now on
    /// (see StreamWriter); `leftover` is the start of an unfinished frame.
    /// False if epoll refuses: NIO goes on reading.
    func adoptStream(_ w: StreamWriter, leftover: ByteBuffer) -> Bool {
        #if os(Linux)
        guard w.startReading(watchdog: .now() + .seconds(Int64(config.maxAllocateTimeout))) else { return false }
        w.partial = Array(leftover.readableBytesView)
        return true
        #else
        return false
        #endif
    }

    #if os(Linux)
    /// Bytes the pump read from a TCP client it owns: every whole frame is
    /// handled, ChannelData relayed straight from `bytes` (no ByteBuffer).
    /// Returns the bytes consumed, or nil on a framing error (the caller
    /// closes the connection, as StreamClientHandler does).
    func pumpStreamBytes(_ w: StreamWriter, _ bytes: UnsafeRawBufferPointer) -> Int? {
        let key = ClientKey.stream(ObjectIdentifier(w.channel))
        var offset = 0
        // Stops early if handling a frame closed the connection.
        while w.fd >= 0 {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            let frame: TURNStreamFramer.RawFrame?
            do { frame = try TURNStreamFramer.nextFrame(in: rest) } catch { return nil }
            guard let frame else { break }
            switch frame {
            case .channelData(let number, let length, let total):
                offset += total
                guard let a = allocations[key], let binding = a.channels[number] else { continue }
                guard a.permissions[binding.peer.ip] != nil else { metrics.droppedNoPermission += 1; continue }
                var peer = binding.peerSocket
                sendToPeer(a, peer: &peer, bytes: UnsafeRawBufferPointer(rebasing: rest[ChannelData.headerSize..<ChannelData.headerSize + length]), buffer: nil)
            case .stun(let total):
                offset += total
                stunFromClient(ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: rest[0..<total])), key: key, link: .stream(w.channel, w))
            }
        }
        return offset
    }
    #endif

    func streamClosed(_ channel: Channel, writer: StreamWriter?) {
        let key = ClientKey.stream(ObjectIdentifier(channel))
        // Still binding: boundRelay finds no entry and closes what it bound.
        if let grant = pending.removeValue(forKey: key) { releaseQuota(grant) }
        if let a = allocations[key] { remove(a, reason: "connection closed") }
        #if os(Linux)
        if let writer {
            pumpWriters[writer.token] = nil
            writer.close()
        }
        #endif
    }

    @inline(__always)
    func channelDataFromClient(_ a: Allocation, channel: UInt16, payload: ByteBuffer) {
        guard let binding = a.channels[channel] else { return }
        guard a.permissions[binding.peer.ip] != nil else { metrics.droppedNoPermission += 1; return }
        var peer = binding.peerSocket
        sendToPeer(a, peer: &peer, payload: payload)
    }

    @inline(__always)
    func sendToPeer(_ a: Allocation, peer: inout PeerSocket, payload: ByteBuffer) {
        payload.withUnsafeReadableBytes { sendToPeer(a, peer: &peer, bytes: $0, buffer: payload) }
    }

    /// Sends straight on the relay socket; only a full socket buffer of a
    /// NIO relay channel takes NIO's queued path (flushed once per read
    /// burst by flushDirty). `buffer`, when given, holds `bytes`.
    @inline(__always)
    func sendToPeer(_ a: Allocation, peer: inout PeerSocket, bytes: UnsafeRawBufferPointer, buffer: ByteBuffer?) {
        let n = bytes.count
        if a.bps > 0, !a.toPeer.admit(bytes: n, rate: a.bps, now: .now()) { metrics.droppedOverBandwidth &+= 1; return }
        metrics.bytesFromClients &+= n
        metrics.packetsFromClients &+= 1
        #if os(Linux)
        if buffer == nil, a.relayChannel == nil, a.relayFD >= 0, let batch {
            if batch.isFull { flushBatch(batch) }
            batch.append(fd: a.relayFD, to: &peer.raw, header: nil, bytes: bytes)
            return
        }
        #endif
        // While NIO still holds queued datagrams for this socket, queue behind them to keep their order.
        if a.relayFD >= 0, !a.needsFlush {
            switch RawDatagram.send(fd: a.relayFD, to: &peer.raw, header: nil, bytes: bytes) {
            case .sent: return
            case .failed: metrics.sendErrors &+= 1; return
            case .wouldBlock: break
            }
        }
        // A pump relay socket has no queue: a full socket buffer drops the datagram, as UDP may.
        guard !a.closed, let relay = a.relayChannel else { metrics.droppedSocketFull &+= 1; return }
        relay.write(AddressedEnvelope(remoteAddress: peer.socket, data: buffer ?? ByteBuffer(bytes: bytes)), promise: nil)
        if !a.needsFlush {
            a.needsFlush = true
            dirty.append(a)
        }
    }

    /// Called when a listener or connection finished a read burst: one flush
    /// per relay socket written to, so NIO can batch the datagrams.
    func flushDirty() {
        for a in dirty {
            a.needsFlush = false
            if !a.closed { a.relayChannel?.flush() }
        }
        dirty.removeAll(keepingCapacity: true)
    }

    // MARK: Inbound from peers

    /// A datagram from a peer on a relay socket. Returns true when it queued
    /// a write on the client's channel (the caller flushes it); a UDP or
    /// plain-TCP client is sent to directly. `buffer`, when given, holds `bytes`.
    @inline(__always)
    func peerDatagram(_ a: Allocation, from peer: STUNAddress, bytes: UnsafeRawBufferPointer, buffer: ByteBuffer?) -> Bool {
        guard !a.closed else { return false }
        guard a.permissions[peer.ip] != nil else { metrics.droppedNoPermission += 1; return false }
        let n = bytes.count
        if a.bps > 0, !a.toClient.admit(bytes: n, rate: a.bps, now: .now()) { metrics.droppedOverBandwidth &+= 1; return false }
        metrics.bytesToClients &+= n
        metrics.packetsToClients &+= 1
        let number = a.channelByPeer[peer]
        if case .stream(_, let w?) = a.link {
            // A plain-TCP client: the frame goes out in one sendmsg, or waits in the writer's queue.
            let outcome: StreamWriter.Outcome
            if let number {
                outcome = w.send(header: UInt32(number) << 16 | UInt32(n), bytes: bytes, padding: (4 - n % 4) % 4, droppable: true)
            } else {
                outcome = w.send(dataIndication(from: peer, bytes: bytes, buffer: buffer, allocator: a.link.allocator), droppable: true)
            }
            switch outcome {
            case .sent, .queued: break
            case .startedWaiting: metrics.streamWriteWaits &+= 1
            case .dropped: metrics.droppedSocketFull &+= 1
            case .failed: metrics.sendErrors &+= 1
            }
            return false
        }
        // A UDP client is sent to directly unless NIO holds queued datagrams for it (keeps their order).
        let direct: UDPListener?
        if case .udp(let l, _) = a.link, l.fd >= 0, !l.queued { direct = l } else { direct = nil }
        #if os(Linux)
        if buffer == nil, let number, let direct, var client = a.clientRaw, let batch {
            if batch.isFull { flushBatch(batch) }
            batch.append(fd: direct.fd, to: &client, header: UInt32(number) << 16 | UInt32(n), bytes: bytes)
            return false
        }
        #endif
        if let number, let direct, var client = a.clientRaw {
            // The 4-byte header goes in its own iovec: no buffer, no copy.
            switch RawDatagram.send(fd: direct.fd, to: &client, header: UInt32(number) << 16 | UInt32(n), bytes: bytes) {
            case .sent: return false
            case .failed: metrics.sendErrors &+= 1; return false
            case .wouldBlock: break
            }
        }
        let allocator = a.link.allocator
        let data = buffer ?? allocator.buffer(bytes: bytes)
        let out: ByteBuffer
        if let number {
            var b = allocator.buffer(capacity: n + 8)
            ChannelData.write(channel: number, payload: data, padded: a.link.isStream, into: &b)
            out = b
        } else {
            out = dataIndication(from: peer, bytes: bytes, buffer: data, allocator: allocator)
            if let direct, var client = a.clientRaw {
                switch RawDatagram.send(fd: direct.fd, to: &client, header: nil, payload: out) {
                case .sent: return false
                case .failed: metrics.sendErrors &+= 1; return false
                case .wouldBlock: break
                }
            }
        }
        // A pump listener has no queue: a full socket buffer drops the datagram, as UDP may.
        if case .udp(let l, _) = a.link {
            guard l.channel != nil else { metrics.droppedSocketFull &+= 1; return false }
            l.queued = true
        }
        a.link.write(out)
        return true
    }

    #if os(Linux)
    /// Sends the pump's batch now and counts what the kernel refused.
    func flushBatch(_ batch: DatagramBatch) {
        let r = batch.flush()
        metrics.droppedSocketFull &+= r.wouldBlock
        metrics.sendErrors &+= r.failed
        metrics.segmentedSends &+= r.segmented
        if r.segmentationRefused > 0 {
            logger.debug("udp pump: a socket refused a GSO send; its datagrams go one by one from now on")
        }
    }

    /// Before a relay socket closes: datagrams the client sent before it
    /// freed its allocation (a Refresh of lifetime 0 or a framing error
    /// later in the same read) still leave, as without the batch, and no
    /// flush ever writes to a descriptor closed (and maybe reused) since.
    /// Only the pump thread fills the batch and it flushes before giving up
    /// the lock, so closes from other threads always find it empty.
    func sendQueued(on fd: CInt) {
        if let batch, batch.holds(fd: fd) { flushBatch(batch) }
        // Its number may come back as another socket, to be offered GSO afresh.
        batch?.forget(fd: fd)
    }
    #endif

    /// A Data indication carrying a peer's datagram (no channel bound to the peer).
    func dataIndication(from peer: STUNAddress, bytes: UnsafeRawBufferPointer, buffer: ByteBuffer?,
                        allocator: ByteBufferAllocator) -> ByteBuffer {
        let data = buffer ?? allocator.buffer(bytes: bytes)
        var b = STUNMessageBuilder(method: STUNMethod.data.rawValue, messageClass: .indication,
                                   transactionID: .random(), buffer: allocator.buffer(capacity: bytes.count + 64))
        b.append(.xorPeerAddress, address: peer, xor: true)
        b.append(.data, buffer: data)
        if config.fingerprint { b.appendFingerprint() }
        return b.finish()
    }

    // MARK: Expiry

    func sweep(now: NIODeadline) {
        for a in Array(allocations.values) {
            if a.expiry <= now {
                remove(a, reason: "expired")
                continue
            }
            if !a.permissions.isEmpty { a.permissions = a.permissions.filter { $0.value > now } }
            if !a.channels.isEmpty {
                for (number, binding) in a.channels where binding.expiry <= now {
                    a.channels[number] = nil
                    a.channelByPeer[binding.peer] = nil
                }
            }
        }
        for socket in reservations.expired(now: now) { closeUnused(socket) }
        #if os(Linux)
        // The allocation watchdog (see StreamClientHandler) for the TCP clients the pump reads.
        for w in pumpWriters.values where w.reading && w.broken {
            // A write failed (the pump closes these after EPOLLOUT; this catches the rest).
            streamClosed(w.channel, writer: w)
        }
        for w in pumpWriters.values where w.reading && w.watchdogDeadline <= now {
            let key = ClientKey.stream(ObjectIdentifier(w.channel))
            if allocations[key] != nil || pending[key] != nil {
                w.watchdogDeadline = now + .seconds(Int64(config.maxAllocateTimeout))
            } else {
                logger.debug("closing connection without allocation", metadata: ["remote": "\(w.remote.map { "\($0)" } ?? "?")"])
                streamClosed(w.channel, writer: w)
            }
        }
        #endif
    }

    func remove(_ a: Allocation, reason: String) {
        guard !a.closed else { return }
        a.closed = true
        closeRelay(a)
        allocations[a.key] = nil
        releaseQuota(QuotaGrant(user: a.quotaUser, bps: a.bps))
        metrics.allocationsDeleted += 1
        metrics.allocationsActive = allocations.count
        logger.debug("allocation removed", metadata: ["relay": "\(a.relayAddress)", "user": "\(a.username)", "reason": "\(reason)"])
    }

    /// Closes a relay socket no allocation uses (reserved, or a failed Allocate).
    func closeUnused(_ socket: RelaySocket) {
        switch socket {
        case .channel(let ch, _): ch.close(promise: nil)
        case .pump(let fd, let token):
            #if os(Linux)
            sendQueued(on: fd)
            if token != 0 { pump?.remove(fd: fd) }
            #endif
            close(fd)
        }
    }

    /// Closes an allocation's relay socket, whichever kind it is.
    private func closeRelay(_ a: Allocation) {
        let fd = a.relayFD
        a.relayFD = -1
        if let ch = a.relayChannel {
            ch.close(promise: nil)
        } else if fd >= 0 {
            pumpRelays[a.pumpToken] = nil
            #if os(Linux)
            sendQueued(on: fd)
            pump?.remove(fd: fd)
            #endif
            close(fd)
        }
    }
}
