#if canImport(Glibc)
import Glibc
#endif
import NIOCore
@testable import OtterRelay

/// A blocking UDP socket on 127.0.0.1 with a receive timeout, so no test can hang.
final class UDPSocket {
    let fd: Int32
    let port: UInt16

    init(timeoutMillis: Int = 1000) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        precondition(fd >= 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        addr.sin_port = 0
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        precondition(r == 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.port = UInt16(bigEndian: addr.sin_port)
        var tv = timeval(tv_sec: timeoutMillis / 1000, tv_usec: (timeoutMillis % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8], to port: UInt16, ip: UInt32 = 0x7F00_0001) {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = ip.bigEndian
        addr.sin_port = port.bigEndian
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            } }
        }
    }

    /// Next datagram and its source port, or nil after the timeout.
    func receive() -> (bytes: [UInt8], fromPort: UInt16)? {
        var buf = [UInt8](repeating: 0, count: 65536)
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = buf.withUnsafeMutableBytes { b in
            withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(fd, b.baseAddress, b.count, 0, $0, &len)
            } }
        }
        guard n >= 0 else { return nil }
        return (Array(buf[0..<n]), UInt16(bigEndian: addr.sin_port))
    }
}

/// A minimal TURN client over UDP, written against the codec, for driving
/// the server through exact scenarios the real clients cannot produce.
final class TURNTestClient {
    let sock = UDPSocket()
    let serverPort: UInt16
    var username: String
    var password: String
    var realm: String?
    var nonce: String?
    var useSHA256 = false

    init(serverPort: Int, username: String, password: String) {
        self.serverPort = UInt16(serverPort)
        self.username = username
        self.password = password
    }

    var key: [UInt8] { STUNIntegrity.longTermKey(username: username, realm: realm ?? "", password: password) }

    func build(_ method: STUNMethod, tid: TransactionID = .random(), auth: Bool = true,
               _ body: (inout STUNMessageBuilder) -> Void = { _ in }) -> [UInt8] {
        var b = STUNMessageBuilder(method: method, messageClass: .request, transactionID: tid)
        body(&b)
        if auth, let realm, let nonce {
            b.append(.username, string: username)
            b.append(.realm, string: realm)
            b.append(.nonce, string: nonce)
            if useSHA256 { b.appendMessageIntegritySHA256(key: key) } else { b.appendMessageIntegrity(key: key) }
        }
        return Array(b.finish().readableBytesView)
    }

    /// Sends and waits for the response with the same transaction id.
    func exchange(_ bytes: [UInt8]) -> STUNMessage? {
        let tid = Array(bytes[8..<20])
        sock.send(bytes, to: serverPort)
        for _ in 0..<20 {
            guard let (reply, _) = sock.receive() else { return nil }
            if reply.count >= 20, Array(reply[8..<20]) == tid, let m = try? STUNMessage(parsing: ByteBuffer(bytes: reply)) {
                return m
            }
        }
        return nil
    }

    /// Sends a request; on 401/438 takes REALM and NONCE and tries once more.
    func request(_ method: STUNMethod, _ body: @escaping (inout STUNMessageBuilder) -> Void = { _ in }) -> STUNMessage? {
        guard let first = exchange(build(method, body)) else { return nil }
        if first.messageClass == .errorResponse, let code = first.errorCode?.code, code == 401 || code == 438,
           let r = first.string(.realm), let n = first.string(.nonce), realm != r || nonce != n {
            realm = r
            nonce = n
            return exchange(build(method, body))
        }
        return first
    }

    func allocate(_ extra: @escaping (inout STUNMessageBuilder) -> Void = { _ in }) -> STUNMessage? {
        request(.allocate) { b in
            b.append(.requestedTransport, uint32: 17 << 24)
            extra(&b)
        }
    }

    func createPermission(_ ip: String, port: UInt16 = 9) -> STUNMessage? {
        let peer = STUNAddress(ip: IPRange.parseIP(ip)!, port: port)
        return request(.createPermission) { b in b.append(.xorPeerAddress, address: peer, xor: true) }
    }
}

extension STUNMessage {
    var code: UInt16? { errorCode?.code }
    var isSuccess: Bool { messageClass == .successResponse }
}
