import NIOCore
import OtterCore
@testable import OtterRelay

/// One frame from the server: a STUN message or ChannelData (padding dropped).
enum TURNTestFrame: Equatable {
    case stun([UInt8])
    case channelData(channel: UInt16, payload: [UInt8])
}

/// How the test client reaches the server: one frame per datagram over UDP,
/// or frames cut from a TCP byte stream.
protocol TURNTestTransport: AnyObject {
    /// Over TCP, ChannelData is padded to a multiple of 4 (RFC 8656 section 12.5).
    static var padsChannelData: Bool { get }
    func send(_ bytes: [UInt8])
    /// The next frame, or nil on timeout (or EOF).
    func nextFrame() -> TURNTestFrame?
}

final class UDPTransport: TURNTestTransport {
    static let padsChannelData = false
    let socket = UDPSocket()
    let serverPort: UInt16

    init(serverPort: Int) { self.serverPort = UInt16(serverPort) }

    func send(_ bytes: [UInt8]) { socket.send(bytes, to: serverPort) }

    func nextFrame() -> TURNTestFrame? {
        guard let (d, _) = socket.receive() else { return nil }
        if d.count >= 4, d[0] & 0xC0 == 0x40 {
            let length = min(Int(d[2]) << 8 | Int(d[3]), d.count - 4)
            return .channelData(channel: UInt16(d[0]) << 8 | UInt16(d[1]), payload: Array(d[4..<4 + length]))
        }
        return .stun(d)
    }
}

final class TCPTransport: TURNTestTransport {
    static let padsChannelData = true
    let stream: TCPStream
    /// Bytes read but not yet cut into frames.
    private var inbox: [UInt8] = []

    init(serverPort: Int, receiveBuffer: Int?) {
        stream = TCPStream(port: serverPort, receiveBuffer: receiveBuffer)
    }

    func send(_ bytes: [UInt8]) { stream.send(bytes) }

    func nextFrame() -> TURNTestFrame? {
        while true {
            if inbox.count >= 4 {
                let length = Int(inbox[2]) << 8 | Int(inbox[3])
                if inbox[0] & 0xC0 == 0x40 {
                    let total = ChannelData.streamFrameLength(payloadLength: length)
                    if inbox.count >= total {
                        let f = TURNTestFrame.channelData(channel: UInt16(inbox[0]) << 8 | UInt16(inbox[1]), payload: Array(inbox[4..<4 + length]))
                        inbox.removeFirst(total)
                        return f
                    }
                } else if inbox.count >= 20 + length {
                    let f = TURNTestFrame.stun(Array(inbox[0..<20 + length]))
                    inbox.removeFirst(20 + length)
                    return f
                }
            }
            guard let bytes = stream.receive() else { return nil }
            inbox += bytes
        }
    }
}

/// The tests' one TURN client, written against the codec, for driving the
/// server through exact scenarios the real clients cannot produce; over UDP
/// (`TURNTestClient`) or TCP (`TCPTURNClient`).
final class STUNTestClient<Transport: TURNTestTransport> {
    typealias Frame = TURNTestFrame
    let transport: Transport
    var username: String
    var password: String
    var realm: String?
    var nonce: String?
    var useSHA256 = false
    /// Frames `exchange` skipped while waiting for a response.
    var skippedFrames: [Frame] = []

    init(transport: Transport, username: String, password: String) {
        self.transport = transport
        self.username = username
        self.password = password
    }

    var key: [UInt8] { STUNIntegrity.longTermKey(username: username, realm: realm ?? "", password: password) }

    func send(_ bytes: [UInt8]) { transport.send(bytes) }

    func nextFrame() -> Frame? { transport.nextFrame() }

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

    /// Sends and waits for the response with the same transaction id, keeping
    /// the frames in between (ChannelData, indications) in `skippedFrames`.
    func exchange(_ bytes: [UInt8]) -> STUNMessage? {
        let tid = Array(bytes[8..<20])
        send(bytes)
        for _ in 0..<10_000 {
            guard let f = nextFrame() else { return nil }
            if case .stun(let reply) = f, reply.count >= 20, Array(reply[8..<20]) == tid,
               let m = try? STUNMessage(parsing: ByteBuffer(bytes: reply)) {
                return m
            }
            skippedFrames.append(f)
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

    func channelBind(_ number: UInt16, to peer: STUNAddress) -> STUNMessage? {
        request(.channelBind) { b in
            b.append(.channelNumber, uint32: UInt32(number) << 16)
            b.append(.xorPeerAddress, address: peer, xor: true)
        }
    }

    func sendChannelData(_ number: UInt16, _ payload: [UInt8]) {
        var cd = ByteBuffer()
        ChannelData.write(channel: number, payload: ByteBuffer(bytes: payload), padded: Transport.padsChannelData, into: &cd)
        send(Array(cd.readableBytesView))
    }
}

typealias TURNTestClient = STUNTestClient<UDPTransport>
typealias TCPTURNClient = STUNTestClient<TCPTransport>

extension STUNTestClient where Transport == UDPTransport {
    convenience init(serverPort: Int, username: String, password: String) {
        self.init(transport: UDPTransport(serverPort: serverPort), username: username, password: password)
    }

    /// The client's own socket, for datagrams a test sends or reads itself.
    var sock: UDPSocket { transport.socket }
}

extension STUNTestClient where Transport == TCPTransport {
    convenience init(serverPort: Int, username: String, password: String, receiveBuffer: Int? = nil) {
        self.init(transport: TCPTransport(serverPort: serverPort, receiveBuffer: receiveBuffer), username: username, password: password)
    }

    func close() { transport.stream.close() }
}

func restTCPClient(_ port: Int, receiveBuffer: Int? = nil) -> TCPTURNClient {
    let creds = TurnCredentials.make(secret: testSecret, user: "alice", ttl: 3600)
    return TCPTURNClient(serverPort: port, username: creds.username, password: creds.credential, receiveBuffer: receiveBuffer)
}

extension STUNMessage {
    var code: UInt16? { errorCode?.code }
    var isSuccess: Bool { messageClass == .successResponse }
}
