import NIOCore
#if os(Linux)
// Not for a call of its own: the release (whole-module) build finds Glibc's
// MSG_DONTWAIT only through it, as CRelayIO's header includes <sys/socket.h>.
import CRelayIO
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A destination as the kernel takes it, built once per peer or client
/// (ChannelBind, Send cache, Allocate) so relaying a datagram converts nothing.
struct RawSockAddr {
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v):
            var sin = v.address
            withUnsafeMutableBytes(of: &storage) { dst in
                withUnsafeBytes(of: &sin) { dst.copyMemory(from: $0) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        case .v6(let v):
            var sin6 = v.address
            withUnsafeMutableBytes(of: &storage) { dst in
                withUnsafeBytes(of: &sin6) { dst.copyMemory(from: $0) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        case .unixDomainSocket:
            return nil
        }
    }
}

/// Sends datagrams straight on a socket — one the UDP pump owns, or one a
/// NIO `DatagramChannel` owns — bypassing NIO's write path (envelope boxing,
/// the pending-writes queue, the flush, a `SocketAddress` conversion per
/// datagram). That path was most of the relay's user time; a relay only
/// ever needs "send this now or drop". A NIO channel's descriptor is only
/// written on that channel's loop and while it is active (its handler resets
/// it to -1 on channelInactive), so it cannot have been closed and reused;
/// pump sockets are closed under the engine lock that every send holds.
enum RawDatagram {
    enum Outcome {
        case sent
        /// The socket buffer is full: the caller queues the datagram in NIO
        /// instead, which waits for writability.
        case wouldBlock
        /// Any other error (unreachable, too big): dropped, as NIO would.
        case failed
    }

    /// The descriptor behind a NIO socket channel; call on its event loop.
    static func descriptor(of channel: Channel) -> CInt {
        let fd = try? channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { $0 }
        return (fd ?? nil) ?? -1
    }

    /// One datagram: `header` (a ChannelData header, 0 bytes when nil) then `payload`.
    @inline(__always)
    static func send(fd: CInt, to address: inout RawSockAddr, header: UInt32?, payload: ByteBuffer) -> Outcome {
        payload.withUnsafeReadableBytes { send(fd: fd, to: &address, header: header, bytes: $0) }
    }

    @inline(__always)
    static func send(fd: CInt, to address: inout RawSockAddr, header: UInt32?, bytes body: UnsafeRawBufferPointer) -> Outcome {
        var head = (header ?? 0).bigEndian
        let headLength = header == nil ? 0 : 4
        let result: Int = withUnsafeMutableBytes(of: &head) { h in
            var iov = (iovec(iov_base: h.baseAddress, iov_len: headLength),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count))
            return withUnsafeMutablePointer(to: &iov) { iovs in
                iovs.withMemoryRebound(to: iovec.self, capacity: 2) { first in
                    withUnsafeMutablePointer(to: &address.storage) { sa in
                        var msg = msghdr()
                        msg.msg_name = UnsafeMutableRawPointer(sa)
                        msg.msg_namelen = address.length
                        // Skip an empty header vector: the kernel would accept it, but one is less work.
                        msg.msg_iov = headLength == 0 ? first + 1 : first
                        msg.msg_iovlen = headLength == 0 ? 1 : 2
                        return sendmsg(fd, &msg, CInt(MSG_DONTWAIT))
                    }
                }
            }
        }
        if result >= 0 { return .sent }
        switch errno {
        case EAGAIN, EWOULDBLOCK, ENOBUFS, EINTR: return .wouldBlock
        default: return .failed
        }
    }

    /// A non-blocking, close-on-exec UDP socket bound to ip:port. No
    /// SO_REUSEADDR: with it a relay socket could bind a listener's port.
    /// `reusePort`: SO_REUSEPORT, for the listeners of the pump shards (the
    /// kernel hashes each client's 4-tuple to one of them). Never for relay
    /// sockets: a relay port must be the allocation's alone.
    static func bind(ip: String, port: Int, receiveBuffer: Int?, sendBuffer: Int?, reusePort: Bool = false) throws -> CInt {
        let address = try SocketAddress(ipAddress: ip, port: port)
        let family: CInt
        switch address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        case .unixDomainSocket: throw RelayError(.bindFailed, "not an IP address: \(ip)")
        }
        #if os(Linux)
        let fd = socket(family, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(family, SOCK_DGRAM, 0)
        if fd >= 0 { _ = fcntl(fd, F_SETFL, O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        #endif
        guard fd >= 0 else { throw RelayError(.bindFailed, "socket(): errno \(errno)") }
        func set(_ option: CInt, _ value: Int?) {
            guard var v = value.map(CInt.init) else { return }
            _ = setsockopt(fd, SOL_SOCKET, option, &v, socklen_t(MemoryLayout<CInt>.size))
        }
        set(SO_RCVBUF, receiveBuffer)
        set(SO_SNDBUF, sendBuffer)
        if reusePort { set(SO_REUSEPORT, 1) }
        let rc = address.withSockAddr { sa, len in bindSocket(fd, sa, socklen_t(len)) }
        if rc != 0 {
            let e = errno
            close(fd)
            throw RelayError(.bindFailed, "bind \(ip):\(port): errno \(e)")
        }
        return fd
    }

    /// The address a socket is bound to.
    static func localAddress(_ fd: CInt) -> STUNAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        return STUNAddress(sockaddr: &storage)
    }
}

extension STUNAddress {
    /// From a kernel address, without NIO's SocketAddress (whose host string
    /// costs an inet_ntop per datagram).
    @inline(__always)
    init?(sockaddr storage: UnsafePointer<sockaddr_storage>) {
        switch CInt(storage.pointee.ss_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(storage).load(as: sockaddr_in.self)
            self.init(ip: .v4(UInt32(bigEndian: sin.sin_addr.s_addr)), port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = UnsafeRawPointer(storage).load(as: sockaddr_in6.self)
            var addr = sin6.sin6_addr
            let (hi, lo) = withUnsafeBytes(of: &addr) { raw -> (UInt64, UInt64) in
                (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                 UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            self.init(ip: .v6(hi, lo), port: UInt16(bigEndian: sin6.sin6_port))
        default:
            return nil
        }
    }
}

extension RawSockAddr {
    /// A copy of a kernel address (as recvmmsg filled it in).
    @inline(__always)
    init(copying storage: UnsafePointer<sockaddr_storage>, length: socklen_t) {
        self.storage = storage.pointee
        self.length = length
    }
}

/// `bind` from the C library (RawDatagram.bind shadows the name).
@inline(__always)
private func bindSocket(_ fd: CInt, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> CInt {
    #if canImport(Glibc)
    Glibc.bind(fd, address, length)
    #elseif canImport(Musl)
    Musl.bind(fd, address, length)
    #else
    Darwin.bind(fd, address, length)
    #endif
}
