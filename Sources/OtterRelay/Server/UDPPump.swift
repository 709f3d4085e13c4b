#if os(Linux)
import CRelayIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOConcurrencyHelpers
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The UDP hot path without SwiftNIO's DatagramChannel: per shard one
/// thread, one epoll set holding the shard's UDP listeners, the relay sockets of UDP and
/// plain-TCP clients, and the plain-TCP client connections themselves once
/// NIO has handed them over (see StreamWriter). Each readable UDP socket is
/// drained with one recvmmsg into one preallocated set
/// of receive slots, datagrams relayed with sendmsg (RawDatagram). Per
/// datagram that saves NIO's SocketAddress (a heap box and an inet_ntop
/// host string), envelope and NIOAny boxing, the pipeline and a receive
/// buffer per socket. Everything the pump does to engine state happens
/// under the engine lock, one epoll batch at a time.
final class UDPPump: @unchecked Sendable {
    /// Datagrams one recvmmsg may return. epoll is level-triggered, so a
    /// socket with more waiting comes back in the next batch.
    static let receiveCount = 16
    /// Receive slots in all: each recvmmsg takes the next `receiveCount`
    /// free ones, so datagrams relayed from earlier slots can wait in the
    /// send batch (no copy) until it is flushed, which frees them all.
    static let slotCount = 64
    static let slotSize = RelayEngine.datagramBufferSize
    /// Tokens at or above this are listeners (index = token - listenerBase);
    /// relay sockets count up from 1.
    static let listenerBase: UInt64 = 1 << 62
    /// Tokens in writerBase..<listenerBase are plain-TCP clients: read by the
    /// pump, and written on EPOLLOUT while their StreamWriter has a queue.
    static let writerBase: UInt64 = 1 << 61
    /// One read of a TCP client: up to 64 KB after the unfinished frame
    /// kept from the last read (at most 65,555 bytes).
    static let streamBufferSize = 65_560 + 65_536
    private static let stopToken: UInt64 = .max

    let epfd: CInt
    /// Written once to stop the thread.
    private let stopPipe: (read: CInt, write: CInt)
    // The receive slots; only the pump thread touches them.
    private let data: UnsafeMutableRawPointer
    private let names: UnsafeMutablePointer<sockaddr_storage>
    private let iovecs: UnsafeMutablePointer<iovec>
    private let headers: UnsafeMutablePointer<crelay_mmsghdr>
    private let tokens: UnsafeMutablePointer<UInt64>
    private let ready: UnsafeMutablePointer<UInt32>
    /// Where TCP clients are read into (shared: one read at a time).
    private let streamBuffer: UnsafeMutableRawPointer
    /// The first free receive slot (see slotCount).
    private var nextSlot = 0
    /// Relayed datagrams waiting for one sendmmsg per socket (see DatagramBatch).
    /// Runs to one destination leave as one UDP GSO send unless
    /// OTTER_RELAY_PUMP_GSO=0 or the kernel predates UDP_SEGMENT (4.18).
    let batch = DatagramBatch(capacity: UDPPump.slotCount, segmentation: UDPPump.segmentation)
    static let segmentation: Bool = {
        if let v = getenv("OTTER_RELAY_PUMP_GSO"), String(cString: v) == "0" { return false }
        return DatagramBatch.kernelSegments
    }()
    /// Whether relayed datagrams go through the batch (OTTER_RELAY_PUMP_BATCH=0 sends each at once).
    let batching: Bool = {
        guard let v = getenv("OTTER_RELAY_PUMP_BATCH") else { return true }
        return String(cString: v) != "0"
    }()
    private let exited = ConditionLock(value: false)
    private var running = false

    init() throws {
        epfd = crelay_epoll_create()
        guard epfd >= 0 else { throw RelayError(.bindFailed, "epoll_create: errno \(errno)") }
        var fds: [CInt] = [0, 0]
        guard pipe(&fds) == 0 else {
            close(epfd)
            throw RelayError(.bindFailed, "pipe: errno \(errno)")
        }
        stopPipe = (fds[0], fds[1])
        _ = crelay_epoll_add(epfd, fds[0], Self.stopToken)
        let n = Self.slotCount
        data = .allocate(byteCount: n * Self.slotSize, alignment: 16)
        names = .allocate(capacity: n)
        iovecs = .allocate(capacity: n)
        headers = .allocate(capacity: n)
        tokens = .allocate(capacity: 64)
        ready = .allocate(capacity: 64)
        streamBuffer = .allocate(byteCount: Self.streamBufferSize, alignment: 16)
        for i in 0..<n {
            iovecs[i] = iovec(iov_base: data + i * Self.slotSize, iov_len: Self.slotSize)
        }
    }

    deinit {
        close(stopPipe.read)
        close(stopPipe.write)
        close(epfd)
        data.deallocate()
        names.deallocate()
        iovecs.deallocate()
        headers.deallocate()
        tokens.deallocate()
        ready.deallocate()
        streamBuffer.deallocate()
    }

    func add(fd: CInt, token: UInt64) -> Bool {
        crelay_epoll_add(epfd, fd, token) == 0
    }

    /// Before closing a relay socket (closing alone would also drop it from
    /// the set, but only once no other descriptor refers to the socket).
    /// The engine sends what the batch holds for it first (sendQueued).
    func remove(fd: CInt) {
        _ = crelay_epoll_del(epfd, fd)
    }

    /// `shard` names the thread (otter-pump-0, -1, …; at most 15 bytes).
    func start(engine: RelayEngine, shard: Int) throws {
        if batching { engine.lock.withLock { engine.batch = batch } }
        try PumpThread.start(name: "otter-pump-\(shard)") { [self] in
            self.run(engine: engine)
            self.exited.lock()
            self.exited.unlock(withValue: true)
        }
        running = true
    }

    /// Stops the thread and waits for it to finish its batch.
    func stop() {
        guard running else { return }
        var one: UInt8 = 1
        _ = write(stopPipe.write, &one, 1)
        exited.lock(whenValue: true)
        exited.unlock()
        running = false
    }

    private func run(engine: RelayEngine) {
        while true {
            let n = crelay_epoll_wait(epfd, tokens, ready, 64, -1)
            if n < 0 {
                if errno == EINTR { continue }
                engine.logger.error("udp pump: epoll_wait failed, errno \(errno)")
                return
            }
            var stopping = false
            engine.lock.withLock {
                for i in 0..<Int(n) {
                    let token = tokens[i]
                    if token == Self.stopToken {
                        stopping = true
                    } else if token >= Self.listenerBase {
                        readListener(engine: engine, index: Int(token - Self.listenerBase))
                    } else if token >= Self.writerBase {
                        // Gone if its connection closed in this batch or just before.
                        guard let w = engine.pumpWriters[token] else { continue }
                        let r = ready[i]
                        if r & 1 != 0 || (r & 2 != 0 && !w.reading) { w.drain() }
                        if r & 2 != 0 && w.reading { readStream(engine: engine, writer: w) }
                        // A write error on a connection the pump owns ends it, as NIO would.
                        if w.broken && w.reading { engine.streamClosed(w.channel, writer: w) }
                    } else {
                        readRelay(engine: engine, token: token)
                    }
                }
                // Datagrams that fell back to NIO's queue (allocations with a NIO relay channel).
                engine.flushDirty()
                flushBatch(engine: engine)
                nextSlot = 0
            }
            if stopping { return }
        }
    }

    /// Sends the batch and counts what the kernel refused.
    private func flushBatch(engine: RelayEngine) {
        if batch.count > 0 { engine.flushBatch(batch) }
    }

    /// One recvmmsg on `fd` into the next free slots (flushing the batch
    /// first when fewer than `receiveCount` are free); returns the first
    /// slot and how many it filled.
    private func receive(_ fd: CInt, engine: RelayEngine) -> (first: Int, count: Int) {
        if nextSlot + Self.receiveCount > Self.slotCount {
            flushBatch(engine: engine)
            nextSlot = 0
        }
        let first = nextSlot
        for i in first..<first + Self.receiveCount {
            headers[i].msg_hdr = msghdr(msg_name: UnsafeMutableRawPointer(names + i),
                                        msg_namelen: socklen_t(MemoryLayout<sockaddr_storage>.size),
                                        msg_iov: iovecs + i, msg_iovlen: 1,
                                        msg_control: nil, msg_controllen: 0, msg_flags: 0)
            headers[i].msg_len = 0
        }
        let n = crelay_recvmmsg(fd, headers + first, UInt32(Self.receiveCount), CInt(MSG_DONTWAIT))
        let count = n > 0 ? Int(n) : 0
        nextSlot += count
        return (first, count)
    }

    private func readListener(engine: RelayEngine, index: Int) {
        guard index < engine.pumpListeners.count else { return }
        let listener = engine.pumpListeners[index]
        guard listener.fd >= 0 else { return }
        let (first, n) = receive(listener.fd, engine: engine)
        for i in first..<first + n {
            let bytes = UnsafeRawBufferPointer(start: data + i * Self.slotSize, count: Int(headers[i].msg_len))
            engine.pumpClientDatagram(listener: listener, index: index, from: names + i,
                                      length: headers[i].msg_hdr.msg_namelen, bytes: bytes)
        }
    }

    /// One read of a TCP client the pump owns: the unfinished frame kept
    /// from the last read goes first, then whole frames are handled straight
    /// from the buffer and the new unfinished one is kept.
    private func readStream(engine: RelayEngine, writer w: StreamWriter) {
        guard w.fd >= 0 else { return }
        // The batch may point into the stream buffer (the last read's frames): send it before reusing it.
        flushBatch(engine: engine)
        let kept = w.partial.count
        if kept > 0 { w.partial.withUnsafeBytes { streamBuffer.copyMemory(from: $0.baseAddress!, byteCount: kept) } }
        let n = read(w.fd, streamBuffer + kept, Self.streamBufferSize - kept)
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return }
        guard n > 0 else {
            // EOF or a reset: the connection is over, as NIO would decide.
            engine.streamClosed(w.channel, writer: w)
            return
        }
        let total = kept + n
        guard let used = engine.pumpStreamBytes(w, UnsafeRawBufferPointer(start: streamBuffer, count: total)) else {
            engine.logger.debug("stream client error, closing", metadata: ["error": "\(TURNFramingError())"])
            engine.streamClosed(w.channel, writer: w)
            return
        }
        guard w.fd >= 0 else { return }
        if used < total {
            w.partial = Array(UnsafeRawBufferPointer(start: streamBuffer + used, count: total - used))
        } else if kept > 0 {
            w.partial = []
        }
    }

    private func readRelay(engine: RelayEngine, token: UInt64) {
        // Gone (removed in this batch or just before): its socket is closed or closing.
        guard let a = engine.pumpRelays[token], a.relayFD >= 0 else { return }
        let (first, n) = receive(a.relayFD, engine: engine)
        for i in first..<first + n {
            let bytes = UnsafeRawBufferPointer(start: data + i * Self.slotSize, count: Int(headers[i].msg_len))
            guard let peer = STUNAddress(sockaddr: names + i) else { continue }
            // Queued only for a TLS client (one that took a reserved pump socket): NIO flushes on its loop.
            if engine.peerDatagram(a, from: peer, bytes: bytes, buffer: nil), a.link.isStream { a.link.flush() }
        }
    }
}
#endif
