import NIOCore

/// Who a client is: the 5-tuple of RFC 8656. For UDP the listener and the
/// client's address; for TCP/TLS the connection itself.
enum ClientKey: Hashable {
    case udp(listener: Int, remote: SocketAddress)
    case stream(ObjectIdentifier)
}

/// A UDP listener channel and its descriptor, for sending relayed datagrams
/// without NIO's write path (RawDatagram). Confined to the relay event loop.
final class UDPListener: @unchecked Sendable {
    let channel: Channel
    /// -1 until the channel is active and again once it is inactive.
    var fd: CInt = -1
    /// A datagram went through NIO's queue since the last flush: later ones
    /// follow it there, so a burst keeps its order.
    var queued = false

    init(channel: Channel) { self.channel = channel }
}

/// How to send to a client.
enum ClientLink: Sendable {
    case udp(listener: UDPListener, remote: SocketAddress)
    case stream(Channel)

    var channel: Channel {
        switch self {
        case .udp(let l, _): l.channel
        case .stream(let c): c
        }
    }

    var remote: SocketAddress? {
        switch self {
        case .udp(_, let r): r
        case .stream(let c): c.remoteAddress
        }
    }

    var isStream: Bool {
        if case .stream = self { return true }
        return false
    }

    /// Writes without flushing; the caller flushes once per read burst.
    @inline(__always)
    func write(_ buffer: ByteBuffer) {
        switch self {
        case .udp(let l, let r): l.channel.write(AddressedEnvelope(remoteAddress: r, data: buffer), promise: nil)
        case .stream(let c): c.write(buffer, promise: nil)
        }
    }

    func writeAndFlush(_ buffer: ByteBuffer) {
        switch self {
        case .udp(let l, let r): l.channel.writeAndFlush(AddressedEnvelope(remoteAddress: r, data: buffer), promise: nil)
        case .stream(let c): c.writeAndFlush(buffer, promise: nil)
        }
    }
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

/// One TURN allocation. Confined to the relay event loop (every access happens
/// there), which is why the unchecked Sendable is sound: it only crosses into
/// closures that NIO runs on that same loop.
final class Allocation: @unchecked Sendable {
    let key: ClientKey
    let link: ClientLink
    let username: String
    let userKey: [UInt8]
    let relayChannel: Channel
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
    /// max-bps budgets, client → peer and peer → client.
    var toPeer: TokenBucket
    var toClient: TokenBucket

    init(key: ClientKey, link: ClientLink, username: String, userKey: [UInt8], relayChannel: Channel,
         relayAddress: STUNAddress, expiry: NIODeadline, allocateTransaction: TransactionID, maxBPS: Int) {
        self.key = key
        self.link = link
        self.username = username
        self.userKey = userKey
        self.relayChannel = relayChannel
        self.relayAddress = relayAddress
        if case .udp(_, let remote) = link { self.clientRaw = RawSockAddr(remote) } else { self.clientRaw = nil }
        self.expiry = expiry
        self.allocateTransaction = allocateTransaction
        self.allocateResponse = ByteBuffer()
        let now = NIODeadline.now()
        self.toPeer = TokenBucket(rate: maxBPS, now: now)
        self.toClient = TokenBucket(rate: maxBPS, now: now)
    }
}

/// Lets a relay socket's handler find its allocation once the bind completed.
final class AllocationBox: @unchecked Sendable {
    var allocation: Allocation?
}
