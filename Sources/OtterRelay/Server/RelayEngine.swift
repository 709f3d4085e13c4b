import Foundation
import Logging
import NIOCore
import NIOPosix

/// The TURN server's state and logic. Everything runs on one event loop:
/// listeners, relay sockets and TCP connections are all registered on
/// `loop`, so state needs no locks and a relayed packet crosses no thread.
/// `@unchecked Sendable` is sound because every method is only called on
/// `loop` (NIO runs handler callbacks and future callbacks there).
final class RelayEngine: @unchecked Sendable {
    let loop: EventLoop
    let config: RelayConfiguration
    let auth: Authenticator
    let policy: PeerPolicy
    let logger: Logger
    let relayBindIP: String
    /// Public address advertised for a relay bound to a private address (-X).
    let externalIP: STUNAddress.IP?
    let maxBPS: Int

    var allocations: [ClientKey: Allocation] = [:]
    var pending: Set<ClientKey> = []
    var perUser: [String: Int] = [:]
    var reservations: [UInt64: Reservation] = [:]
    var dirty: [Allocation] = []
    var metrics = RelayMetrics()
    var sweepTask: RepeatedTask?

    struct Reservation {
        var channel: Channel
        var box: AllocationBox
        var expiry: NIODeadline
    }

    static let knownAttributes: Set<UInt16> = [
        0x0001, 0x0003, 0x0006, 0x0008, 0x0009, 0x000A, 0x000C, 0x000D, 0x0012, 0x0013, 0x0014, 0x0015,
        0x0016, 0x0017, 0x0018, 0x0019, 0x001A, 0x001C, 0x001D, 0x0020, 0x0022, 0x0024, 0x0025, 0x0026, 0x0027,
    ]

    init(loop: EventLoop, config: RelayConfiguration, logger: Logger) {
        self.loop = loop
        self.config = config
        self.auth = Authenticator(configuration: config)
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
        self.maxBPS = config.maxBPS
    }

    func startSweeping() {
        sweepTask = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
            self.sweep(now: .now())
        }
    }

    func stop() {
        sweepTask?.cancel()
        for a in Array(allocations.values) { remove(a, reason: "shutdown") }
        for r in reservations.values { r.channel.close(promise: nil) }
        reservations.removeAll()
    }

    // MARK: Inbound from clients

    /// A datagram on a UDP listener: ChannelData on the hot path, else STUN.
    @inline(__always)
    func clientDatagram(listener: UDPListener, index: Int, remote: SocketAddress, data: ByteBuffer) {
        guard let first = data.getInteger(at: data.readerIndex, as: UInt8.self) else { return }
        let key = ClientKey.udp(listener: index, remote: remote)
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

    func streamFrame(_ frame: TURNFrame, channel: Channel) {
        let key = ClientKey.stream(ObjectIdentifier(channel))
        switch frame {
        case .channelData(let number, let payload):
            guard let a = allocations[key] else { return }
            channelDataFromClient(a, channel: number, payload: payload)
        case .stun(let bytes):
            stunFromClient(bytes, key: key, link: .stream(channel))
        }
    }

    /// For the allocation watchdog of TCP/TLS connections; an Allocate still
    /// binding its relay socket counts as one.
    func hasAllocation(streamChannel channel: Channel) -> Bool {
        let key = ClientKey.stream(ObjectIdentifier(channel))
        return allocations[key] != nil || pending.contains(key)
    }

    func streamClosed(_ channel: Channel) {
        let key = ClientKey.stream(ObjectIdentifier(channel))
        pending.remove(key)
        if let a = allocations[key] { remove(a, reason: "connection closed") }
    }

    @inline(__always)
    func channelDataFromClient(_ a: Allocation, channel: UInt16, payload: ByteBuffer) {
        guard let binding = a.channels[channel] else { return }
        guard a.permissions[binding.peer.ip] != nil else { metrics.droppedNoPermission += 1; return }
        var peer = binding.peerSocket
        sendToPeer(a, peer: &peer, payload: payload)
    }

    /// Sends straight on the relay socket; only a full socket buffer takes
    /// NIO's queued path (flushed once per read burst by flushDirty).
    @inline(__always)
    func sendToPeer(_ a: Allocation, peer: inout PeerSocket, payload: ByteBuffer) {
        let n = payload.readableBytes
        if maxBPS > 0, !a.toPeer.admit(bytes: n, rate: maxBPS, now: .now()) { metrics.droppedOverBandwidth &+= 1; return }
        metrics.bytesFromClients &+= n
        metrics.packetsFromClients &+= 1
        // While NIO still holds queued datagrams for this socket, queue behind them to keep their order.
        if a.relayFD >= 0, !a.needsFlush {
            switch RawDatagram.send(fd: a.relayFD, to: &peer.raw, header: nil, payload: payload) {
            case .sent, .failed: return
            case .wouldBlock: break
            }
        }
        if a.closed { return }
        a.relayChannel.write(AddressedEnvelope(remoteAddress: peer.socket, data: payload), promise: nil)
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
            if !a.closed { a.relayChannel.flush() }
        }
        dirty.removeAll(keepingCapacity: true)
    }

    // MARK: Inbound from peers

    /// Returns true when it queued a write on the client's channel (the
    /// caller flushes it); a UDP client's ChannelData is sent directly.
    @inline(__always)
    func peerDatagram(_ a: Allocation, from remote: SocketAddress, data: ByteBuffer) -> Bool {
        guard !a.closed, let peer = STUNAddress(remote) else { return false }
        guard a.permissions[peer.ip] != nil else { metrics.droppedNoPermission += 1; return false }
        let n = data.readableBytes
        if maxBPS > 0, !a.toClient.admit(bytes: n, rate: maxBPS, now: .now()) { metrics.droppedOverBandwidth &+= 1; return false }
        metrics.bytesToClients &+= n
        metrics.packetsToClients &+= 1
        let number = a.channelByPeer[peer]
        // A UDP client is sent to directly unless NIO holds queued datagrams for it (keeps their order).
        let direct: UDPListener?
        if case .udp(let l, _) = a.link, l.fd >= 0, !l.queued { direct = l } else { direct = nil }
        if let number, let direct, var client = a.clientRaw {
            // The 4-byte header goes in its own iovec: no buffer, no copy.
            switch RawDatagram.send(fd: direct.fd, to: &client, header: UInt32(number) << 16 | UInt32(n), payload: data) {
            case .sent, .failed: return false
            case .wouldBlock: break
            }
        }
        let allocator = a.link.channel.allocator
        let out: ByteBuffer
        if let number {
            var b = allocator.buffer(capacity: n + 8)
            ChannelData.write(channel: number, payload: data, padded: a.link.isStream, into: &b)
            out = b
        } else {
            var b = STUNMessageBuilder(method: STUNMethod.data.rawValue, messageClass: .indication,
                                       transactionID: .random(), buffer: allocator.buffer(capacity: n + 64))
            b.append(.xorPeerAddress, address: peer, xor: true)
            b.append(.data, buffer: data)
            if config.fingerprint { b.appendFingerprint() }
            out = b.finish()
            if let direct, var client = a.clientRaw {
                switch RawDatagram.send(fd: direct.fd, to: &client, header: nil, payload: out) {
                case .sent, .failed: return false
                case .wouldBlock: break
                }
            }
        }
        if a.closed { return false }
        a.link.write(out)
        if case .udp(let l, _) = a.link { l.queued = true }
        return true
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
        for (token, r) in reservations where r.expiry <= now {
            r.channel.close(promise: nil)
            reservations[token] = nil
        }
    }

    func remove(_ a: Allocation, reason: String) {
        guard !a.closed else { return }
        a.closed = true
        a.relayFD = -1
        allocations[a.key] = nil
        if let n = perUser[a.username] { perUser[a.username] = n > 1 ? n - 1 : nil }
        metrics.allocationsDeleted += 1
        metrics.allocationsActive = allocations.count
        a.relayChannel.close(promise: nil)
        logger.debug("allocation removed", metadata: ["relay": "\(a.relayAddress)", "user": "\(a.username)", "reason": "\(reason)"])
    }
}
