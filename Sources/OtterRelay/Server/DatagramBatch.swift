#if os(Linux)
import CRelayIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Datagrams the UDP pump relays in one epoll batch, sent together with
/// sendmmsg: one system call for each run of datagrams leaving on the same
/// socket (every datagram to UDP clients leaves on their listener) instead
/// of one sendmsg each. The payloads are not copied: they stay in the pump's
/// receive slots, which are not reused until the batch is flushed (see
/// UDPPump.claimSlots). Only the pump thread touches a batch, under the
/// engine lock.
final class DatagramBatch {
    struct Result: Equatable {
        var sent = 0
        /// Met a full socket buffer (EAGAIN/ENOBUFS): dropped, as UDP may.
        var wouldBlock = 0
        /// Any other error on the datagram (unreachable, too big): dropped.
        var failed = 0
    }

    let capacity: Int
    private(set) var count = 0
    private let fds: UnsafeMutablePointer<CInt>
    private let names: UnsafeMutablePointer<sockaddr_storage>
    /// Two per datagram: the 4-byte ChannelData header (or nothing) and the payload.
    private let iovecs: UnsafeMutablePointer<iovec>
    private let heads: UnsafeMutablePointer<UInt32>
    private let headers: UnsafeMutablePointer<crelay_mmsghdr>

    init(capacity: Int) {
        self.capacity = capacity
        fds = .allocate(capacity: capacity)
        names = .allocate(capacity: capacity)
        iovecs = .allocate(capacity: capacity * 2)
        heads = .allocate(capacity: capacity)
        headers = .allocate(capacity: capacity)
    }

    deinit {
        fds.deallocate()
        names.deallocate()
        iovecs.deallocate()
        heads.deallocate()
        headers.deallocate()
    }

    var isFull: Bool { count == capacity }

    /// Queues one datagram: `header` (a ChannelData header; none when nil)
    /// then `bytes`, which must stay valid until the next flush. The caller
    /// flushes first when the batch is full.
    @inline(__always)
    func append(fd: CInt, to address: UnsafePointer<RawSockAddr>, header: UInt32?, bytes: UnsafeRawBufferPointer) {
        precondition(count < capacity, "DatagramBatch full: flush first")
        let i = count
        fds[i] = fd
        names[i] = address.pointee.storage
        let headLength = header == nil ? 0 : 4
        heads[i] = (header ?? 0).bigEndian
        iovecs[2 * i] = iovec(iov_base: UnsafeMutableRawPointer(heads + i), iov_len: headLength)
        iovecs[2 * i + 1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
        headers[i].msg_hdr = msghdr(msg_name: UnsafeMutableRawPointer(names + i), msg_namelen: address.pointee.length,
                                    // An empty header vector is skipped: one iovec is less work for the kernel.
                                    msg_iov: headLength == 0 ? iovecs + 2 * i + 1 : iovecs + 2 * i,
                                    msg_iovlen: headLength == 0 ? 1 : 2,
                                    msg_control: nil, msg_controllen: 0, msg_flags: 0)
        headers[i].msg_len = 0
        count += 1
    }

    /// Whether a datagram waits on `fd`: the engine flushes before closing
    /// it (RelayEngine.sendQueued), so no flush meets a closed descriptor.
    func holds(fd: CInt) -> Bool {
        for i in 0..<count where fds[i] == fd { return true }
        return false
    }

    /// Sends everything queued: one sendmmsg per run of datagrams on the
    /// same socket, in the order they were queued. A datagram the kernel
    /// refuses is dropped and the rest of its run sent after it, except
    /// after a full buffer (EAGAIN), which drops the rest of the run.
    @discardableResult
    func flush() -> Result {
        var r = Result()
        var start = 0
        while start < count {
            let fd = fds[start]
            var end = start + 1
            while end < count && fds[end] == fd { end += 1 }
            var i = start
            while i < end {
                let n = crelay_sendmmsg(fd, headers + i, UInt32(end - i), CInt(MSG_DONTWAIT))
                if n > 0 {
                    r.sent += Int(n)
                    i += Int(n)
                    continue
                }
                // n < 0: datagram i failed (sendmmsg reports the error of the first datagram only).
                switch errno {
                case EINTR: continue
                case EAGAIN, EWOULDBLOCK, ENOBUFS:
                    // The socket's buffer is full: so it is for the rest of
                    // the run too. Drop them all rather than spend a failing
                    // system call on each while the relay is overloaded.
                    r.wouldBlock += end - i
                    i = end
                    continue
                default: r.failed += 1
                }
                i += 1
            }
            start = end
        }
        count = 0
        return r
    }
}
#endif
