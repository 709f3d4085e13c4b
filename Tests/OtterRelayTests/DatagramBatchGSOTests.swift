#if os(Linux)
import Glibc
import Testing
@testable import OtterRelay

/// The pump's batch with UDP GSO (UDP_SEGMENT) against real UDP sockets
/// on 127.0.0.1: loopback takes GSO sends and, for a receiver without
/// UDP_GRO, cuts them back into the datagrams a peer or client expects.
/// The refusing socket is real too: SO_NO_CHECK (no UDP checksum) makes
/// the kernel answer every GSO send with EINVAL while it still sends
/// datagrams one by one.
// Not `import CRelayIO` here: a test file importing it takes Glibc's socket constants
// away from the module's other test files (Clang module ownership of <sys/socket.h>).
@Suite(.enabled(if: DatagramBatch.kernelSegments, "this kernel has no UDP_SEGMENT (before 4.18)"))
struct DatagramBatchGSOTests {
    /// A UDP socket bound to 127.0.0.1 on a free port, and its address.
    func udpSocket() throws -> (fd: CInt, address: RawSockAddr) {
        let fd = socket(AF_INET, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue), 0)
        try #require(fd >= 0)
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: &sin) { dst.copyMemory(from: $0) } }
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        try #require(rc == 0)
        length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, RawSockAddr(copying: &storage, length: length))
    }

    /// Every datagram waiting on `fd`, in order (loopback delivers at once).
    func drain(_ fd: CInt) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 70_000)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, CInt(MSG_DONTWAIT)) }
            if n < 0 { return out }
            out.append(Array(buffer[0..<n]))
        }
    }

    func append(_ batch: DatagramBatch, fd: CInt, to address: RawSockAddr, _ payload: [UInt8], header: UInt32?) {
        var to = address
        payload.withUnsafeBytes { batch.append(fd: fd, to: &to, header: header, bytes: $0) }
    }

    /// Payload i: `size` bytes of (i mod 256).
    func payload(_ i: Int, size: Int) -> [UInt8] { [UInt8](repeating: UInt8(i % 256), count: size) }

    func header(_ size: Int) -> [UInt8] { [0x40, 0x00, UInt8(size >> 8), UInt8(size & 0xFF)] }

    @Test func aRunToOneDestinationLeavesAsOneGSOSendAndArrivesAsItsDatagrams() throws {
        let (tx, _) = try udpSocket()
        let (rx, to) = try udpSocket()
        defer { close(tx); close(rx) }
        let batch = DatagramBatch(capacity: 16, segmentation: true)
        // Five of 1,000 bytes and a shorter last one: one GSO send; all with
        // their ChannelData header in its own iovec, as the pump sends to clients.
        let sizes = [1000, 1000, 1000, 1000, 1000, 300]
        let data = sizes.enumerated().map { payload($0.offset, size: $0.element) }
        for (i, p) in data.enumerated() { append(batch, fd: tx, to: to, p, header: 0x4000_0000 | UInt32(sizes[i])) }
        // The batch points into `data` until it is flushed.
        let r = withExtendedLifetime(data) { batch.flush() }
        #expect(r == DatagramBatch.Result(sent: 6, segmented: 1))
        #expect(drain(rx) == data.map { header($0.count) + $0 })
        #expect(batch.count == 0)
    }

    @Test func aChangeOfDestinationOrSizeEndsAGSOSendAndTheOrderHolds() throws {
        let (tx, _) = try udpSocket()
        let (rx1, to1) = try udpSocket()
        let (rx2, to2) = try udpSocket()
        defer { close(tx); close(rx1); close(rx2) }
        let batch = DatagramBatch(capacity: 16, segmentation: true)
        // To 1: 500, 500 | to 2: 500 | to 1: 200, 500, 700.
        let plan: [(Int, Int)] = [(1, 500), (1, 500), (2, 500), (1, 200), (1, 500), (1, 700)]
        let data = plan.enumerated().map { payload($0.offset, size: $0.element.1) }
        for (i, (dest, _)) in plan.enumerated() { append(batch, fd: tx, to: dest == 1 ? to1 : to2, data[i], header: nil) }
        let r = withExtendedLifetime(data) { batch.flush() }
        // One GSO send, [0, 1]: a shorter datagram may only end one (200 then
        // 500 cannot share one), and a longer one starts a new one (500, 700).
        #expect(r == DatagramBatch.Result(sent: 6, segmented: 1))
        #expect(drain(rx1) == [data[0], data[1], data[3], data[4], data[5]])
        #expect(drain(rx2) == [data[2]])
    }

    @Test func pacedFlowsInterleavedOnOneSocketLeaveOneByOneWithoutGSO() throws {
        // What paced media gives the listener: one datagram per client per
        // cycle, so no two neighbours share a destination. Sent as they are,
        // and a socket that would refuse GSO is not even asked.
        let (tx, _) = try udpSocket()
        let (rx1, to1) = try udpSocket()
        let (rx2, to2) = try udpSocket()
        defer { close(tx); close(rx1); close(rx2) }
        var noChecksum: CInt = 1
        try #require(setsockopt(tx, SOL_SOCKET, SO_NO_CHECK, &noChecksum, socklen_t(MemoryLayout<CInt>.size)) == 0)
        let batch = DatagramBatch(capacity: 16, segmentation: true)
        let data = (0..<6).map { payload($0, size: 800) }
        for (i, p) in data.enumerated() { append(batch, fd: tx, to: i % 2 == 0 ? to1 : to2, p, header: nil) }
        let r = withExtendedLifetime(data) { batch.flush() }
        #expect(r == DatagramBatch.Result(sent: 6))
        #expect(batch.refusing.isEmpty)
        #expect(drain(rx1) == [data[0], data[2], data[4]])
        #expect(drain(rx2) == [data[1], data[3], data[5]])
    }

    @Test func aPairWhoseSecondIsShorterStillLeavesAsOneGSOSend() throws {
        // After interleaved ones, a run of two at the end: 1,000 then 400 bytes.
        let (tx, _) = try udpSocket()
        let (rx1, to1) = try udpSocket()
        let (rx2, to2) = try udpSocket()
        defer { close(tx); close(rx1); close(rx2) }
        let batch = DatagramBatch(capacity: 16, segmentation: true)
        let plan: [(RawSockAddr, Int)] = [(to1, 1000), (to2, 1000), (to1, 1000), (to2, 1000), (to2, 400)]
        let data = plan.enumerated().map { payload($0.offset, size: $0.element.1) }
        for (i, (to, _)) in plan.enumerated() { append(batch, fd: tx, to: to, data[i], header: nil) }
        let r = withExtendedLifetime(data) { batch.flush() }
        #expect(r == DatagramBatch.Result(sent: 5, segmented: 1))
        #expect(drain(rx1) == [data[0], data[2]])
        #expect(drain(rx2) == [data[1], data[3], data[4]])
    }

    @Test func aLongRunIsCutAtSixtyFourSegments() throws {
        let (tx, _) = try udpSocket()
        let (rx, to) = try udpSocket()
        defer { close(tx); close(rx) }
        var size = CInt(1 << 20)
        _ = setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        let batch = DatagramBatch(capacity: 100, segmentation: true)
        let data = (0..<100).map { payload($0, size: 100) }
        for p in data { append(batch, fd: tx, to: to, p, header: nil) }
        let r = withExtendedLifetime(data) { batch.flush() }
        // 64 + 36: two GSO sends (the kernel refuses more than 64 segments in one).
        #expect(r == DatagramBatch.Result(sent: 100, segmented: 2))
        #expect(drain(rx) == data)
    }

    @Test func aSocketThatRefusesGSOGetsItsDatagramsOneByOneAndIsNotAskedAgain() throws {
        let (tx, _) = try udpSocket()
        let (rx, to) = try udpSocket()
        defer { close(tx); close(rx) }
        // Without a UDP checksum the kernel refuses to segment (EINVAL), but sends single datagrams.
        var one: CInt = 1
        try #require(setsockopt(tx, SOL_SOCKET, SO_NO_CHECK, &one, socklen_t(MemoryLayout<CInt>.size)) == 0)
        let batch = DatagramBatch(capacity: 8, segmentation: true)
        let data = (0..<4).map { payload($0, size: 1000) }
        for p in data { append(batch, fd: tx, to: to, p, header: nil) }
        let r = withExtendedLifetime(data) { batch.flush() }
        #expect(r == DatagramBatch.Result(sent: 4, segmentationRefused: 1))
        #expect(drain(rx) == data)
        #expect(batch.refusing == [tx])
        // The next flush goes straight to one datagram per entry: no GSO try, nothing refused.
        for p in data.prefix(3) { append(batch, fd: tx, to: to, p, header: nil) }
        #expect(withExtendedLifetime(data) { batch.flush() } == DatagramBatch.Result(sent: 3))
        #expect(drain(rx) == Array(data.prefix(3)))
        // Closing the socket forgets it: a new socket with its number is offered GSO again.
        batch.forget(fd: tx)
        #expect(batch.refusing.isEmpty)
    }

    @Test func withSegmentationOffEveryDatagramIsItsOwnEntry() throws {
        let (tx, _) = try udpSocket()
        let (rx, to) = try udpSocket()
        defer { close(tx); close(rx) }
        let batch = DatagramBatch(capacity: 8)
        let data = (0..<4).map { payload($0, size: 1000) }
        for p in data { append(batch, fd: tx, to: to, p, header: nil) }
        #expect(withExtendedLifetime(data) { batch.flush() } == DatagramBatch.Result(sent: 4))
        #expect(drain(rx) == data)
    }
}
#endif
