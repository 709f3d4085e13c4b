#if os(Linux)
import CRelayIO
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes to a plain-TCP client straight from the engine, bypassing NIO's
/// write path (pending-writes queue, flush, a ByteBuffer per relayed frame):
/// a datagram from a peer, read by the UDP pump, goes out in one sendmsg
/// whose iovecs are the ChannelData header, the payload still in the
/// pump's receive slot, and the padding. TLS connections stay on NIO.
///
/// Order and completeness of the byte stream: every write to the client
/// (STUN responses on NIO's loop, relayed data on the pump) goes through
/// here under the engine lock; once the socket buffer is full, the rest of
/// a frame and every later frame wait in `pending`, in order, and the pump
/// drains it on EPOLLOUT. A frame is never cut: relayed datagrams arriving
/// that would take `pending` over `queueLimit` are dropped whole (a lost datagram,
/// as on UDP); STUN responses are always queued.
///
/// The descriptor is our own `dup` of NIO's: NIO closes its number on its
/// loop before telling the handler, so writing NIO's number from the pump
/// could hit a closed or reused descriptor. Ours stays valid until `close()`
/// (under the engine lock); the socket itself is shut when both are closed.
///
/// Reading: after the connection's first read (on NIO, which also decided
/// TLS or not) the pump takes the connection over — it watches the
/// descriptor for EPOLLIN, cuts frames from its own buffer and relays
/// ChannelData from there — and NIO's channel is closed, which only closes
/// NIO's number. From then on the engine owns the connection: EOF, errors,
/// framing errors and the allocation watchdog close it (`reading` true).
final class StreamWriter: @unchecked Sendable {
    enum Outcome {
        case sent
        /// The socket buffer just filled up: part or all of it waits, and
        /// the pump now watches for room (EPOLLOUT).
        case startedWaiting
        /// Behind bytes already waiting.
        case queued
        /// Over `queueLimit` with a relayed datagram: dropped whole.
        case dropped
        /// The connection is broken or closed; NIO will see it and close.
        case failed
    }

    /// Bytes a client may leave unread beyond the kernel's socket buffer
    /// before relayed datagrams are dropped (RelayConfiguration's
    /// tcpClientQueueLimit, 1 MiB: ~8 s of a 1 Mbit/s video call, more delay
    /// than real-time media can use, and a bound on memory per stalled
    /// client; NIO's queue, used before, had none).
    let queueLimit: Int

    /// Our duplicate of the connection's descriptor; -1 once closed.
    private(set) var fd: CInt
    /// The pump's token for EPOLLOUT on `fd`.
    let token: UInt64
    private let epfd: CInt
    /// Bytes not yet accepted by the kernel, in stream order.
    private var pending = ByteBuffer()
    /// Registered for EPOLLOUT in the pump's epoll set.
    private var armed = false
    private(set) var broken = false
    /// The pump reads the connection (registered for EPOLLIN).
    private(set) var reading = false
    /// The start of a frame whose rest has not arrived (pump reads only;
    /// at most one frame, 65,555 bytes).
    var partial: [UInt8] = []
    /// When the allocation watchdog looks next (pump reads only).
    var watchdogDeadline = NIODeadline.distantFuture
    /// The client's address, kept because NIO forgets it once its channel closes.
    let remote: SocketAddress?
    /// NIO's channel (closed once the pump reads): the allocation's key is
    /// its ObjectIdentifier, unique while this reference keeps it alive.
    let channel: Channel

    /// Duplicates the channel's descriptor (close-on-exec); nil when the system refuses.
    init?(channel: Channel, channelFD: CInt, token: UInt64, epfd: CInt, queueLimit: Int) {
        guard channelFD >= 0 else { return nil }
        let d = fcntl(channelFD, F_DUPFD_CLOEXEC, 0)
        guard d >= 0 else { return nil }
        self.fd = d
        self.token = token
        self.epfd = epfd
        self.queueLimit = queueLimit
        self.channel = channel
        self.remote = channel.remoteAddress
    }

    /// The pump starts reading the connection; false if epoll refuses.
    func startReading(watchdog: NIODeadline) -> Bool {
        guard fd >= 0, !broken, !reading else { return false }
        guard crelay_epoll_set(epfd, armed ? 0 : 1, fd, token, 1, armed ? 1 : 0) == 0 else { return false }
        reading = true
        watchdogDeadline = watchdog
        return true
    }

    var pendingBytes: Int { pending.readableBytes }

    /// One frame: `header` (a ChannelData header; none when nil), `bytes`,
    /// then `padding` zero bytes (0–3).
    @inline(__always)
    func send(header: UInt32?, bytes: UnsafeRawBufferPointer, padding: Int, droppable: Bool) -> Outcome {
        guard fd >= 0, !broken else { return .failed }
        let headLength = header == nil ? 0 : 4
        let total = headLength + bytes.count + padding
        if pending.readableBytes > 0 {
            // Behind bytes already waiting: keep the order.
            if droppable && pending.readableBytes + total > queueLimit { return .dropped }
            append(header: header, bytes: bytes, padding: padding, skipping: 0)
            return .queued
        }
        var head = (header ?? 0).bigEndian
        var zeros: UInt32 = 0
        var written: Int = withUnsafeMutableBytes(of: &head) { h in
            withUnsafeMutableBytes(of: &zeros) { z in
                var iov = (iovec(iov_base: h.baseAddress, iov_len: headLength),
                           iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count),
                           iovec(iov_base: z.baseAddress, iov_len: padding))
                return withUnsafeMutablePointer(to: &iov) { iovs in
                    iovs.withMemoryRebound(to: iovec.self, capacity: 3) { first in
                        var msg = msghdr()
                        // Leave out empty vectors at either end: less work for the kernel.
                        msg.msg_iov = headLength == 0 ? first + 1 : first
                        msg.msg_iovlen = (headLength == 0 ? 0 : 1) + 1 + (padding == 0 ? 0 : 1)
                        return sendmsg(fd, &msg, Self.flags)
                    }
                }
            }
        }
        if written == total { return .sent }
        if written < 0 {
            guard Self.isTransient(errno) else {
                fail()
                return .failed
            }
            written = 0
        }
        append(header: header, bytes: bytes, padding: padding, skipping: written)
        arm()
        return broken ? .failed : .startedWaiting
    }

    /// A whole message (STUN response, Data indication).
    func send(_ buffer: ByteBuffer, droppable: Bool) -> Outcome {
        buffer.withUnsafeReadableBytes { send(header: nil, bytes: $0, padding: 0, droppable: droppable) }
    }

    /// EPOLLOUT (or an error) on the descriptor: send what waits.
    func drain() {
        guard fd >= 0, !broken else {
            disarm()
            return
        }
        while pending.readableBytes > 0 {
            let n = pending.withUnsafeReadableBytes { systemSend(fd, $0.baseAddress, $0.count, Self.flags) }
            if n > 0 {
                pending.moveReaderIndex(forwardBy: n)
            } else if n < 0 && Self.isTransient(errno) {
                return
            } else {
                fail()
                return
            }
        }
        // Drop a buffer grown by a long stall; keep a small one for the next.
        if pending.capacity > 1 << 16 { pending = ByteBuffer() } else { pending.clear() }
        disarm()
    }

    /// From channelInactive (or shutdown), under the engine lock.
    func close() {
        guard fd >= 0 else { return }
        if armed || reading { _ = crelay_epoll_del(epfd, fd) }
        armed = false
        reading = false
        _ = systemClose(fd)
        fd = -1
        pending = ByteBuffer()
    }

    private static let flags = CInt(MSG_DONTWAIT) | CInt(MSG_NOSIGNAL)

    @inline(__always)
    private static func isTransient(_ e: CInt) -> Bool { e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ENOBUFS }

    /// The frame's bytes after the first `skip` (what the kernel took).
    private func append(header: UInt32?, bytes: UnsafeRawBufferPointer, padding: Int, skipping skip: Int) {
        var skip = skip
        if let header {
            var h = header.bigEndian
            withUnsafeBytes(of: &h) { raw in
                if skip < 4 { pending.writeBytes(UnsafeRawBufferPointer(rebasing: raw[skip...])) }
            }
            skip = max(0, skip - 4)
        }
        if skip < bytes.count { pending.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[skip...])) }
        skip = max(0, skip - bytes.count)
        if skip < padding { pending.writeRepeatingByte(0, count: padding - skip) }
    }

    private func arm() {
        guard !armed, !broken else { return }
        if crelay_epoll_set(epfd, reading ? 0 : 1, fd, token, reading ? 1 : 0, 1) == 0 {
            armed = true
        } else {
            // Nothing would ever drain the queue: treat the connection as broken.
            fail()
        }
    }

    private func disarm() {
        guard armed else { return }
        if reading {
            _ = crelay_epoll_set(epfd, 0, fd, token, 1, 0)
        } else {
            _ = crelay_epoll_del(epfd, fd)
        }
        armed = false
    }

    /// A write error (reset, broken pipe): nothing more is sent; the read
    /// side sees the same error and closes the connection (NIO, or the
    /// pump once it reads).
    private func fail() {
        broken = true
        disarm()
        pending = ByteBuffer()
    }
}
/// `send` and `close` from the C library (the methods above shadow the names).
@inline(__always)
private func systemSend(_ fd: CInt, _ bytes: UnsafeRawPointer?, _ count: Int, _ flags: CInt) -> Int {
    #if canImport(Glibc)
    Glibc.send(fd, bytes, count, flags)
    #else
    Musl.send(fd, bytes, count, flags)
    #endif
}

@inline(__always)
private func systemClose(_ fd: CInt) -> CInt {
    #if canImport(Glibc)
    Glibc.close(fd)
    #else
    Musl.close(fd)
    #endif
}
#else
import NIOCore

/// Elsewhere than Linux there is no pump to wait for EPOLLOUT, so TCP
/// writes stay on NIO and no writer is ever made; this only lets
/// ClientLink name the type.
final class StreamWriter: Sendable {
    enum Outcome { case sent, startedWaiting, queued, dropped, failed }
    private init() {}
    var remote: SocketAddress? { nil }
    func send(header: UInt32?, bytes: UnsafeRawBufferPointer, padding: Int, droppable: Bool) -> Outcome { .failed }
    func send(_ buffer: ByteBuffer, droppable: Bool) -> Outcome { .failed }
    func close() {}
}
#endif
