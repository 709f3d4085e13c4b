#if os(Linux)
import Glibc
import Testing
@testable import OtterRelay

/// The pump's sendmmsg batch against real kernel sockets: AF_UNIX datagram
/// socket pairs, because over UDP loopback a sender never meets a full
/// buffer (the datagram is delivered or dropped at once), while a Unix
/// datagram socket with a small send buffer returns EAGAIN once its queue
/// is full — the edge the batch must survive.
struct DatagramBatchTests {
    /// A non-blocking connected pair; `sendBuffer` shrinks the sender's buffer.
    func socketPair(sendBuffer: CInt? = nil) throws -> (send: CInt, receive: CInt) {
        var fds: [CInt] = [-1, -1]
        let rc = socketpair(AF_UNIX, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue), 0, &fds)
        try #require(rc == 0)
        if var size = sendBuffer {
            _ = setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        }
        return (fds[0], fds[1])
    }

    /// Every datagram waiting on `fd`, in order.
    func drain(_ fd: CInt) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, CInt(MSG_DONTWAIT)) }
            if n < 0 { return out }
            out.append(Array(buffer[0..<n]))
        }
    }

    /// A connected socket needs no address: an empty one (length 0).
    var noAddress: RawSockAddr {
        var storage = sockaddr_storage()
        return RawSockAddr(copying: &storage, length: 0)
    }

    /// Payload i: 1,000 bytes of (i mod 256), like turnutils_uclient's messages.
    func payloads(_ count: Int) -> [[UInt8]] {
        (0..<count).map { [UInt8](repeating: UInt8($0 % 256), count: 1000) }
    }

    func append(_ batch: DatagramBatch, fd: CInt, _ payload: [UInt8], header: UInt32?) {
        var to = noAddress
        payload.withUnsafeBytes { batch.append(fd: fd, to: &to, header: header, bytes: $0) }
    }

    @Test func sendsEveryDatagramWithItsChannelHeaderInOrder() throws {
        let (tx, rx) = try socketPair()
        defer { close(tx); close(rx) }
        let batch = DatagramBatch(capacity: 8)
        let data = payloads(8)
        for (i, p) in data.enumerated() { append(batch, fd: tx, p, header: i % 2 == 0 ? 0x4000_03E8 : nil) }
        let r = batch.flush()
        #expect(r == DatagramBatch.Result(sent: 8))
        let got = drain(rx)
        #expect(got.count == 8)
        for (i, g) in got.enumerated() {
            // Even ones carry the ChannelData header 0x4000 / length 1000 in front.
            #expect(g == (i % 2 == 0 ? [0x40, 0x00, 0x03, 0xE8] + data[i] : data[i]))
        }
        #expect(batch.count == 0)
    }

    @Test func aBatchCutByEAGAINDropsOnlyWhatDidNotFitAndKeepsTheOrder() throws {
        let (tx, rx) = try socketPair(sendBuffer: 4096)
        defer { close(tx); close(rx) }
        let batch = DatagramBatch(capacity: 32)
        let data = payloads(32)
        for p in data { append(batch, fd: tx, p, header: nil) }
        let r = batch.flush()
        // The small buffer (and the receiver's queue of at most
        // net.unix.max_dgram_qlen datagrams) takes a few, then EAGAIN
        // drops the rest of the run: one failing system call, not one each.
        #expect(r.sent > 0 && r.sent < 32)
        #expect(r.sent + r.wouldBlock == 32)
        #expect(r.failed == 0)
        let got = drain(rx)
        #expect(got == Array(data[0..<r.sent]))
        // Room again: the next batch goes through whole.
        for p in data[0..<2] { append(batch, fd: tx, p, header: nil) }
        #expect(batch.flush().sent == 2)
        #expect(drain(rx) == Array(data[0..<2]))
    }

    @Test func holdsTellsWhichSocketsHaveDatagramsWaiting() throws {
        // The engine asks before closing a relay socket and flushes first
        // (the end-to-end case is in TCPRelayTests).
        let (tx1, rx1) = try socketPair()
        let (tx2, rx2) = try socketPair()
        defer { close(tx1); close(rx1); close(tx2); close(rx2) }
        let batch = DatagramBatch(capacity: 4)
        append(batch, fd: tx1, payloads(1)[0], header: nil)
        #expect(batch.holds(fd: tx1))
        #expect(!batch.holds(fd: tx2))
        #expect(batch.flush().sent == 1)
        #expect(!batch.holds(fd: tx1))
    }

    @Test func anErrorOtherThanEAGAINDropsThatDatagramAndSendsTheRest() throws {
        let (tx, rx) = try socketPair()
        defer { close(tx); close(rx) }
        let batch = DatagramBatch(capacity: 4)
        let data = payloads(3)
        append(batch, fd: tx, data[0], header: nil)
        // Larger than the socket's send buffer can ever hold: EMSGSIZE for this one only.
        let huge = [UInt8](repeating: 7, count: 1 << 20)
        append(batch, fd: tx, huge, header: nil)
        append(batch, fd: tx, data[2], header: nil)
        let r = batch.flush()
        #expect(r == DatagramBatch.Result(sent: 2, failed: 1))
        #expect(drain(rx) == [data[0], data[2]])
    }
}
#endif
