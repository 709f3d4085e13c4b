#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import OtterCore
@testable import OtterRelay

/// A blocking TCP TURN client on 127.0.0.1 with a receive timeout (no test
/// can hang) and, optionally, a small receive buffer, so a test can make the
/// server's socket buffer fill up by not reading.
final class TCPTURNClient {
    let fd: Int32
    var username: String
    var password: String
    var realm: String?
    var nonce: String?
    /// Bytes read but not yet cut into frames.
    private var inbox: [UInt8] = []
    /// Frames `exchange` skipped while waiting for a response.
    var skippedFrames: [Frame] = []

    init(serverPort: Int, username: String, password: String, receiveBuffer: Int? = nil, timeoutMillis: Int = 2000) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0)
        self.fd = fd
        self.username = username
        self.password = password
        if var size = receiveBuffer.map(Int32.init) {
            // Before connect, so the advertised window stays small.
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var tv = timeval(tv_sec: timeoutMillis / 1000, tv_usec: (timeoutMillis % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        addr.sin_port = UInt16(serverPort).bigEndian
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        precondition(r == 0, "connect: errno \(errno)")
    }

    deinit { close() }

    private var closed = false
    func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(fd)
    }

    var key: [UInt8] { STUNIntegrity.longTermKey(username: username, realm: realm ?? "", password: password) }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            precondition(n > 0, "send: errno \(errno)")
            off += n
        }
    }

    enum Frame: Equatable {
        case stun([UInt8])
        case channelData(channel: UInt16, payload: [UInt8])
    }

    /// The next whole frame (ChannelData padding skipped), or nil on timeout or EOF.
    func nextFrame() -> Frame? {
        while true {
            if inbox.count >= 4 {
                let length = Int(inbox[2]) << 8 | Int(inbox[3])
                if inbox[0] & 0xC0 == 0x40 {
                    let total = ChannelData.streamFrameLength(payloadLength: length)
                    if inbox.count >= total {
                        let f = Frame.channelData(channel: UInt16(inbox[0]) << 8 | UInt16(inbox[1]), payload: Array(inbox[4..<4 + length]))
                        inbox.removeFirst(total)
                        return f
                    }
                } else if inbox.count >= 20 + length {
                    let f = Frame.stun(Array(inbox[0..<20 + length]))
                    inbox.removeFirst(20 + length)
                    return f
                }
            }
            var buf = [UInt8](repeating: 0, count: 65536)
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return nil }
            inbox += buf[0..<n]
        }
    }

    /// True once the server closed the connection (EOF) within the timeout.
    func readsEOF() -> Bool {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    func build(_ method: STUNMethod, _ body: (inout STUNMessageBuilder) -> Void = { _ in }) -> [UInt8] {
        var b = STUNMessageBuilder(method: method, messageClass: .request, transactionID: .random())
        body(&b)
        if let realm, let nonce {
            b.append(.username, string: username)
            b.append(.realm, string: realm)
            b.append(.nonce, string: nonce)
            b.appendMessageIntegrity(key: key)
        }
        return Array(b.finish().readableBytesView)
    }

    /// Sends a request and returns its response, skipping ChannelData and
    /// indications; on 401/438 takes REALM and NONCE and tries once more.
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

    func exchange(_ bytes: [UInt8]) -> STUNMessage? {
        let tid = Array(bytes[8..<20])
        send(bytes)
        while let f = nextFrame() {
            if case .stun(let reply) = f, Array(reply[8..<20]) == tid {
                return try? STUNMessage(parsing: ByteBuffer(bytes: reply))
            }
            skippedFrames.append(f)
        }
        return nil
    }

    func allocate() -> STUNMessage? {
        request(.allocate) { $0.append(.requestedTransport, uint32: 17 << 24) }
    }

    func channelBind(_ number: UInt16, to peer: STUNAddress) -> STUNMessage? {
        request(.channelBind) { b in
            b.append(.channelNumber, uint32: UInt32(number) << 16)
            b.append(.xorPeerAddress, address: peer, xor: true)
        }
    }

    func sendChannelData(_ number: UInt16, _ payload: [UInt8]) {
        var cd = ByteBuffer()
        ChannelData.write(channel: number, payload: ByteBuffer(bytes: payload), padded: true, into: &cd)
        send(Array(cd.readableBytesView))
    }
}

func restTCPClient(_ port: Int, receiveBuffer: Int? = nil) -> TCPTURNClient {
    let creds = TurnCredentials.make(secret: testSecret, user: "alice", ttl: 3600)
    return TCPTURNClient(serverPort: port, username: creds.username, password: creds.credential, receiveBuffer: receiveBuffer)
}
