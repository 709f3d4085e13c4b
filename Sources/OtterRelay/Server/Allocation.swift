import NIOCore

/// Who a client is: the 5-tuple of RFC 8656. For UDP the listener and the
/// client's address (as STUNAddress: hashing it needs no host string); for
/// TCP/TLS the connection itself.
enum ClientKey: Hashable {
    case udp(listener: Int, remote: STUNAddress)
    case stream(ObjectIdentifier)
}

/// A UDP listener socket and its descriptor, for sending relayed datagrams
/// without NIO's write path (RawDatagram). Either a NIO channel's socket or
/// one the UDP pump owns (channel nil). Guarded by the engine lock.
final class UDPListener: @unchecked Sendable {
    let channel: Channel?
    /// -1 until the socket is ready and again once it is closing.
    var fd: CInt
    /// A datagram went through NIO's queue since the last flush: later ones
    /// follow it there, so a burst keeps its order.
    var queued = false

    init(channel: Channel) {
        self.channel = channel
        self.fd = -1
    }

    init(fd: CInt) {
        self.channel = nil
        self.fd = fd
    }
}

/// How to send to a client. A plain-TCP client on Linux has a
/// StreamWriter (writes straight from the engine); TLS clients, and TCP
/// elsewhere or without the pump, write through NIO (writer nil).
enum ClientLink: Sendable {
    case udp(listener: UDPListener, remote: SocketAddress)
    case stream(Channel, StreamWriter?)

    var allocator: ByteBufferAllocator {
        switch self {
        case .udp(let l, _): l.channel?.allocator ?? ByteBufferAllocator()
        case .stream(let c, _): c.allocator
        }
    }

    var remote: SocketAddress? {
        switch self {
        case .udp(_, let r): r
        case .stream(let c, let w): w?.remote ?? c.remoteAddress
        }
    }

    var isStream: Bool {
        if case .stream = self { return true }
        return false
    }

    /// Whether this client's relay socket can live in the UDP pump: the
    /// pump sends to a client without NIO's write path (a pump listener or
    /// a StreamWriter), never through a NIO channel from its own thread.
    var pumpCanRelay: Bool {
        switch self {
        case .udp(let l, _): l.channel == nil
        case .stream(_, let w): w != nil
        }
    }

    /// Writes without flushing; the caller flushes once per read burst.
    /// A pump-owned listener or a StreamWriter sends at once (nothing to flush).
    @inline(__always)
    func write(_ buffer: ByteBuffer) {
        switch self {
        case .udp(let l, let r):
            if let ch = l.channel {
                ch.write(AddressedEnvelope(remoteAddress: r, data: buffer), promise: nil)
            } else if l.fd >= 0, var to = RawSockAddr(r) {
                _ = RawDatagram.send(fd: l.fd, to: &to, header: nil, payload: buffer)
            }
        case .stream(let c, let w):
            if let w { _ = w.send(buffer, droppable: false) } else { c.write(buffer, promise: nil) }
        }
    }

    func writeAndFlush(_ buffer: ByteBuffer) {
        switch self {
        case .udp(let l, let r):
            if let ch = l.channel {
                ch.writeAndFlush(AddressedEnvelope(remoteAddress: r, data: buffer), promise: nil)
            } else {
                write(buffer)
            }
        case .stream(let c, let w):
            if let w { _ = w.send(buffer, droppable: false) } else { c.writeAndFlush(buffer, promise: nil) }
        }
    }

    func flush() {
        switch self {
        case .udp(let l, _): l.channel?.flush()
        case .stream(let c, let w): if w == nil { c.flush() }
        }
    }
}

/// An allocation's relay socket: a NIO channel (TLS clients, systems
/// without the pump) or a socket the UDP pump reads (token 0 while it only
/// sits in a reservation, not yet in the pump's set).
enum RelaySocket {
    case channel(Channel, AllocationBox)
    /// Descriptor and pump token.
    case pump(CInt, UInt64)
}

/// A peer's address in both forms: NIO's for the queued fallback path, the
/// kernel's for direct sends.
struct PeerSocket {
    var socket: SocketAddress
    var raw: RawSockAddr

    init?(_ peer: STUNAddress) {
        guard let s = try? peer.socketAddress(), let r = RawSockAddr(s) else { return nil }
        socket = s
        raw = r
    }
}

struct ChannelBinding {
    var peer: STUNAddress
    var peerSocket: PeerSocket
    var expiry: NIODeadline
}

/// One TURN allocation. Only touched under the engine lock (see
/// RecursiveLock), which is why the unchecked Sendable is sound.
final class Allocation: @unchecked Sendable {
    let key: ClientKey
    let link: ClientLink
    let username: String
    /// What user-quota counts this allocation against (see RelayEngine.quotaUser).
    let quotaUser: String
    let userKey: [UInt8]
    /// The NIO relay channel; nil when the UDP pump owns the relay socket.
    let relayChannel: Channel?
    /// The pump's token for the relay socket (0 with a NIO channel).
    let pumpToken: UInt64
    let relayAddress: STUNAddress
    /// The relay socket's descriptor for direct sends to peers; -1 once the
    /// allocation is removed or the channel went inactive.
    var relayFD: CInt = -1
    /// The client's address for direct sends on a UDP listener (nil for TCP/TLS).
    let clientRaw: RawSockAddr?
    var expiry: NIODeadline
    var permissions: [STUNAddress.IP: NIODeadline] = [:]
    var channels: [UInt16: ChannelBinding] = [:]
    var channelByPeer: [STUNAddress: UInt16] = [:]
    /// SocketAddress values for Send indications, so the hot path does not
    /// rebuild one per packet. Bounded: cleared when it grows past 1024.
    var peerSockets: [STUNAddress: PeerSocket] = [:]
    let allocateTransaction: TransactionID
    var allocateResponse: ByteBuffer
    var needsFlush = false
    var closed = false
    /// Bytes per second granted in each direction (max-bps, or less of
    /// bps-capacity), 0 for unlimited; the budgets, client → peer and peer → client.
    let bps: Int
    var toPeer: TokenBucket
    var toClient: TokenBucket

    init(key: ClientKey, link: ClientLink, username: String, quotaUser: String, userKey: [UInt8], relay: RelaySocket,
         relayAddress: STUNAddress, expiry: NIODeadline, allocateTransaction: TransactionID, bps: Int) {
        self.key = key
        self.link = link
        self.username = username
        self.quotaUser = quotaUser
        self.userKey = userKey
        switch relay {
        case .channel(let ch, _):
            self.relayChannel = ch
            self.pumpToken = 0
        case .pump(let fd, let token):
            self.relayChannel = nil
            self.pumpToken = token
            self.relayFD = fd
        }
        self.relayAddress = relayAddress
        if case .udp(_, let remote) = link { self.clientRaw = RawSockAddr(remote) } else { self.clientRaw = nil }
        self.expiry = expiry
        self.allocateTransaction = allocateTransaction
        self.allocateResponse = ByteBuffer()
        let now = NIODeadline.now()
        self.bps = bps
        self.toPeer = TokenBucket(rate: bps, now: now)
        self.toClient = TokenBucket(rate: bps, now: now)
    }
}

/// Lets a relay socket's handler find its allocation once the bind completed.
final class AllocationBox: @unchecked Sendable {
    var allocation: Allocation?
    /// The channel's descriptor, read on its loop right after the bind.
    var fd: CInt = -1
}
