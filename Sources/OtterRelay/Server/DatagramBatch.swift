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
///
/// With `segmentation` on, consecutive datagrams on one socket to one
/// destination of one size (the last may be shorter) leave as one UDP GSO
/// send (a UDP_SEGMENT control message; the kernel cuts it into datagrams),
/// so the stack is walked once for the run. A socket whose kernel, route or
/// options refuse GSO (EIO, EINVAL, ENOPROTOOPT...) gets its datagrams
/// resent one by one and is not offered GSO again.
final class DatagramBatch {
    struct Result: Equatable {
        var sent = 0
        /// Met a full socket buffer (EAGAIN/ENOBUFS): dropped, as UDP may.
        var wouldBlock = 0
        /// Any other error on the datagram (unreachable, too big): dropped.
        var failed = 0
        /// GSO sends the kernel took (each carrying two or more datagrams).
        var segmented = 0
        /// GSO sends the kernel refused (their datagrams were resent one by one).
        var segmentationRefused = 0
    }

    /// At most this many datagrams in one GSO send (the kernel's UDP_MAX_SEGMENTS).
    static let maxSegments = 64
    /// At most this many bytes in one GSO send (a UDP datagram's limit).
    static let maxSegmentBytes = 65_000

    let capacity: Int
    /// Whether runs to one destination may leave as one GSO send.
    let segmentation: Bool
    private(set) var count = 0
    private let fds: UnsafeMutablePointer<CInt>
    private let names: UnsafeMutablePointer<sockaddr_storage>
    /// Two per datagram: the 4-byte ChannelData header (or nothing) and the payload.
    private let iovecs: UnsafeMutablePointer<iovec>
    private let heads: UnsafeMutablePointer<UInt32>
    private let headers: UnsafeMutablePointer<crelay_mmsghdr>
    /// What one flush hands sendmmsg for a socket's run: a datagram's own
    /// header, or one GSO header spanning several datagrams' iovecs.
    private let out: UnsafeMutablePointer<crelay_mmsghdr>
    /// For each entry of `out`: its first datagram and how many it carries.
    private let outFirst: UnsafeMutablePointer<Int>
    private let outCount: UnsafeMutablePointer<Int>
    /// A UDP_SEGMENT control message per possible GSO entry.
    private let controls: UnsafeMutableRawPointer
    private let controlSize: Int
    /// Sockets that refused a GSO send: sent one datagram at a time from then on.
    private(set) var refusing = Set<CInt>()

    /// Whether this kernel knows UDP_SEGMENT (4.18+); an older one would send a whole run as one datagram.
    static let kernelSegments: Bool = crelay_udp_segment_supported() != 0

    init(capacity: Int, segmentation: Bool = false) {
        self.capacity = capacity
        self.segmentation = segmentation
        fds = .allocate(capacity: capacity)
        names = .allocate(capacity: capacity)
        iovecs = .allocate(capacity: capacity * 2)
        heads = .allocate(capacity: capacity)
        headers = .allocate(capacity: capacity)
        out = .allocate(capacity: capacity)
        outFirst = .allocate(capacity: capacity)
        outCount = .allocate(capacity: capacity)
        controlSize = Int(crelay_udp_segment_space())
        controls = .allocate(byteCount: capacity * controlSize, alignment: 16)
    }

    deinit {
        fds.deallocate()
        names.deallocate()
        iovecs.deallocate()
        heads.deallocate()
        headers.deallocate()
        out.deallocate()
        outFirst.deallocate()
        outCount.deallocate()
        controls.deallocate()
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

    /// A socket is closing: its descriptor number may come back as another
    /// socket, which should be offered GSO afresh.
    func forget(fd: CInt) {
        refusing.remove(fd)
    }

    @inline(__always)
    private func length(_ i: Int) -> Int { iovecs[2 * i].iov_len + iovecs[2 * i + 1].iov_len }

    @inline(__always)
    private func sameDestination(_ i: Int, _ j: Int) -> Bool {
        let n = headers[i].msg_hdr.msg_namelen
        return n == headers[j].msg_hdr.msg_namelen && memcmp(names + i, names + j, Int(n)) == 0
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
            if segmentation && end - start > 1 && hasRun(start, end) && !refusing.contains(fd) {
                sendSegmented(fd: fd, start: start, end: end, into: &r)
            } else {
                send(fd: fd, entries: headers + start, count: end - start, into: &r)
            }
            start = end
        }
        count = 0
        return r
    }

    /// Whether two neighbours in [start, end) could share a GSO send. Paced
    /// media almost never forms such a run (each flow sends one datagram per
    /// pump cycle), so this is the whole cost of GSO there: one comparison
    /// per datagram, no entry rebuilt.
    @inline(__always)
    private func hasRun(_ start: Int, _ end: Int) -> Bool {
        var i = start
        while i + 1 < end {
            if length(i + 1) <= length(i) && sameDestination(i, i + 1) { return true }
            i += 1
        }
        return false
    }

    /// sendmmsg of `count` one-datagram entries, as many calls as it takes.
    private func send(fd: CInt, entries: UnsafeMutablePointer<crelay_mmsghdr>, count: Int, into r: inout Result) {
        var i = 0
        while i < count {
            let n = crelay_sendmmsg(fd, entries + i, UInt32(count - i), CInt(MSG_DONTWAIT))
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
                r.wouldBlock += count - i
                return
            default: r.failed += 1
            }
            i += 1
        }
    }

    /// One socket's run with runs to one destination and size folded into GSO entries.
    private func sendSegmented(fd: CInt, start: Int, end: Int, into r: inout Result) {
        var entries = 0
        var i = start
        while i < end {
            let size = length(i)
            var j = i + 1
            var bytes = size
            // Same destination and size; the last of a GSO send may be shorter, so a shorter one ends it.
            while j < end, j - i < Self.maxSegments, sameDestination(i, j), length(j - 1) == size,
                  length(j) <= size, bytes + length(j) <= Self.maxSegmentBytes {
                bytes += length(j)
                j += 1
            }
            if j - i == 1 {
                out[entries] = headers[i]
            } else {
                let control = controls + entries * controlSize
                let controlLength = crelay_udp_segment_control(control, UInt16(size))
                // The datagrams' iovecs are contiguous (two each, the empty header ones included).
                out[entries].msg_hdr = msghdr(msg_name: UnsafeMutableRawPointer(names + i),
                                              msg_namelen: headers[i].msg_hdr.msg_namelen,
                                              msg_iov: iovecs + 2 * i, msg_iovlen: 2 * (j - i),
                                              msg_control: control, msg_controllen: Int(controlLength), msg_flags: 0)
                out[entries].msg_len = 0
            }
            outFirst[entries] = i
            outCount[entries] = j - i
            entries += 1
            i = j
        }
        var k = 0
        while k < entries {
            let n = crelay_sendmmsg(fd, out + k, UInt32(entries - k), CInt(MSG_DONTWAIT))
            if n > 0 {
                for e in k..<k + Int(n) {
                    r.sent += outCount[e]
                    if outCount[e] > 1 { r.segmented += 1 }
                }
                k += Int(n)
                continue
            }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS {
                var rest = 0
                for x in k..<entries { rest += outCount[x] }
                r.wouldBlock += rest
                return
            }
            if outCount[k] > 1 && Self.refusesSegmentation(e) {
                // The kernel (or this socket's options or route) will not
                // segment: resend this entry's datagrams one by one, and
                // the rest of the run without GSO too.
                refusing.insert(fd)
                r.segmentationRefused += 1
                let first = outFirst[k]
                send(fd: fd, entries: headers + first, count: end - first, into: &r)
                return
            }
            // Any other error belongs to the entry's datagrams (for a GSO entry: all of them).
            r.failed += outCount[k]
            k += 1
        }
    }

    /// Errors by which the kernel says no to a GSO send as such (old
    /// kernel, no checksum offload, a tunnel, SO_NO_CHECK, a size it will
    /// not segment), as opposed to an error the datagrams would meet alone.
    static func refusesSegmentation(_ e: CInt) -> Bool {
        e == EIO || e == EINVAL || e == ENOPROTOOPT || e == EOPNOTSUPP || e == EMSGSIZE
    }
}
#endif
