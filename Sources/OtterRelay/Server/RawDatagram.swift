import NIOCore
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

/// Sends datagrams straight on a socket that a NIO `DatagramChannel` owns,
/// bypassing NIO's write path (envelope boxing, the pending-writes queue,
/// the flush, a `SocketAddress` conversion per datagram). That path is most
/// of the relay's user time; a relay only ever needs "send this now or drop".
/// Only used on the channel's event loop, and only while the channel is
/// active (its handler resets the descriptor to -1 on channelInactive), so
/// the descriptor cannot have been closed and reused.
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
        var head = (header ?? 0).bigEndian
        let headLength = header == nil ? 0 : 4
        let result: Int = payload.withUnsafeReadableBytes { body in
            withUnsafeMutableBytes(of: &head) { h in
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
        }
        if result >= 0 { return .sent }
        switch errno {
        case EAGAIN, EWOULDBLOCK, ENOBUFS, EINTR: return .wouldBlock
        default: return .failed
        }
    }
}
