import Crypto
import NIOCore
import Testing
@testable import OtterRelay

func hex(_ s: String) -> [UInt8] {
    let clean = s.filter { $0.isHexDigit }
    var out: [UInt8] = []
    var i = clean.startIndex
    while i < clean.endIndex {
        let j = clean.index(i, offsetBy: 2)
        out.append(UInt8(clean[i..<j], radix: 16)!)
        i = j
    }
    return out
}

func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

/// RFC 5769 test vectors: parsing, FINGERPRINT and MESSAGE-INTEGRITY.
@Suite struct RFC5769Tests {
    static let request = hex("""
        00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
        00 24 00 04 6e 00 01 ff
        80 29 00 08 93 2f f9 b1 51 26 3b 36
        00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
        00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
        80 28 00 04 e5 7a 3b cf
        """)

    static let ipv4Response = hex("""
        01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 08 00 01 a1 47 e1 12 a6 43
        00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
        80 28 00 04 c0 7d 4c 96
        """)

    static let ipv6Response = hex("""
        01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
        00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
        80 28 00 04 c8 fb 0b 4c
        """)

    static let longTermRequest = hex("""
        00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
        00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
        00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
        00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
        00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66
        """)

    static let shortTermKey = Array("VOkJxbRl1RmTxUk/WvJxBt".utf8)

    @Test func sampleRequest() throws {
        let m = try STUNMessage(parsing: buffer(Self.request))
        #expect(m.knownMethod == .binding)
        #expect(m.messageClass == .request)
        #expect(m.string(.software) == "STUN test client")
        #expect(m.string(.username) == "evtj:h6vY")
        #expect(m.fingerprintIndex != nil)
        #expect(STUNIntegrity.check(m, key: Self.shortTermKey) == .valid(sha256: false))
        #expect(STUNIntegrity.check(m, key: Array("wrong".utf8)) == .invalid)
        #expect(m.unknownRequiredAttributes(known: RelayEngine.knownAttributes).isEmpty)
    }

    @Test func ipv4Response() throws {
        let m = try STUNMessage(parsing: buffer(Self.ipv4Response))
        #expect(m.messageClass == .successResponse)
        let a = try #require(m.xorAddress(.xorMappedAddress))
        #expect(a.ipString == "192.0.2.1")
        #expect(a.port == 32853)
        #expect(STUNIntegrity.check(m, key: Self.shortTermKey) == .valid(sha256: false))
    }

    @Test func ipv6Response() throws {
        let m = try STUNMessage(parsing: buffer(Self.ipv6Response))
        let a = try #require(m.xorAddress(.xorMappedAddress))
        #expect(a.ipString == "2001:db8:1234:5678:11:2233:4455:6677")
        #expect(a.port == 32853)
        #expect(STUNIntegrity.check(m, key: Self.shortTermKey) == .valid(sha256: false))
    }

    @Test func longTermRequest() throws {
        let m = try STUNMessage(parsing: buffer(Self.longTermRequest))
        #expect(m.string(.username) == "マトリックス")
        #expect(m.string(.realm) == "example.org")
        #expect(m.string(.nonce) == "f//499k954d6OL34oL9FSTvy64sA")
        let key = STUNIntegrity.longTermKey(username: "マトリックス", realm: "example.org", password: "TheMatrIX")
        #expect(STUNIntegrity.check(m, key: key) == .valid(sha256: false))
    }

    /// Our MAC and CRC code, applied to the RFC's bytes, gives the RFC's values.
    @Test func integrityAndFingerprintComputation() {
        let raw = buffer(Self.ipv4Response)
        let mac = STUNIntegrity.mac(Insecure.SHA1.self, raw: raw, attributeOffset: 48, valueLength: 20, key: Self.shortTermKey)
        #expect(mac == Array(Self.ipv4Response[52..<72]))
        #expect(STUNIntegrity.fingerprint(of: raw, upTo: 72) == 0xC07D_4C96)
    }

    /// The builder writes XOR-MAPPED-ADDRESS exactly as the RFC does, and what it
    /// signs verifies.
    @Test func builderRoundTrip() throws {
        let tid = TransactionID(bytes: Array(Self.ipv4Response[8..<20]))
        var b = STUNMessageBuilder(method: .binding, messageClass: .successResponse, transactionID: tid)
        b.append(.software, string: "test vector")
        b.append(.xorMappedAddress, address: STUNAddress(ip: .v4(0xC000_0201), port: 32853), xor: true)
        b.appendMessageIntegrity(key: Self.shortTermKey)
        b.appendFingerprint()
        let out = Array(b.finish().readableBytesView)
        #expect(out.count == Self.ipv4Response.count)
        #expect(Array(out[0..<4]) == Array(Self.ipv4Response[0..<4]))
        #expect(Array(out[36..<48]) == Array(Self.ipv4Response[36..<48]))
        let m = try STUNMessage(parsing: buffer(out))
        #expect(STUNIntegrity.check(m, key: Self.shortTermKey) == .valid(sha256: false))

        var b6 = STUNMessageBuilder(method: .binding, messageClass: .successResponse, transactionID: tid)
        let v6 = STUNAddress(ip: .v6(0x2001_0DB8_1234_5678, 0x0011_2233_4455_6677), port: 32853)
        b6.append(.xorMappedAddress, address: v6, xor: true)
        b6.appendMessageIntegritySHA256(key: Self.shortTermKey)
        let out6 = Array(b6.finish().readableBytesView)
        #expect(Array(out6[20..<44]) == Array(Self.ipv6Response[36..<60]))
        let m6 = try STUNMessage(parsing: buffer(out6))
        #expect(m6.xorAddress(.xorMappedAddress) == v6)
        #expect(STUNIntegrity.check(m6, key: Self.shortTermKey) == .valid(sha256: true))
    }

    @Test func corruptedFingerprintIsRejected() {
        var bytes = Self.request
        bytes[bytes.count - 1] ^= 1
        #expect(throws: STUNParseError.self) { try STUNMessage(parsing: buffer(bytes)) }
    }

    @Test func truncatedOrOverlongAttributesAreRejected() {
        var bytes = Self.request
        bytes[22] = 0xFF // SOFTWARE length far past the end
        #expect(throws: STUNParseError.self) { try STUNMessage(parsing: buffer(bytes)) }
        #expect(throws: STUNParseError.self) { try STUNMessage(parsing: buffer(Array(Self.request.prefix(30)))) }
        #expect(throws: STUNParseError.self) { try STUNMessage(parsing: buffer([])) }
    }
}

@Suite struct FramingTests {
    @Test func channelDataOverTCPIsPaddedTo4() {
        var out = ByteBuffer()
        ChannelData.write(channel: 0x4001, payload: ByteBuffer(bytes: Array(repeating: 7, count: 19)), padded: true, into: &out)
        #expect(out.readableBytes == 24)
        var udp = ByteBuffer()
        ChannelData.write(channel: 0x4001, payload: ByteBuffer(bytes: Array(repeating: 7, count: 19)), padded: false, into: &udp)
        #expect(udp.readableBytes == 23)
        let parsed = ChannelData.parse(udp)
        #expect(parsed?.channel == 0x4001)
        #expect(parsed?.payload.readableBytes == 19)
        #expect(ChannelData.parse(ByteBuffer(bytes: [0x40, 0x01, 0x00, 0x10, 1, 2])) == nil)
    }

    @Test func streamFramerSplitsSTUNAndChannelData() throws {
        var stream = ByteBuffer()
        stream.writeBytes(RFC5769Tests.request)
        ChannelData.write(channel: 0x4002, payload: ByteBuffer(bytes: [1, 2, 3, 4, 5]), padded: true, into: &stream)
        stream.writeBytes(RFC5769Tests.ipv4Response)
        // Feed one byte at a time: frames appear only when complete.
        var fed = ByteBuffer()
        var frames: [TURNFrame] = []
        for byte in stream.readableBytesView {
            fed.writeInteger(byte)
            while let f = try TURNStreamFramer.nextFrame(&fed) { frames.append(f) }
        }
        #expect(frames.count == 3)
        #expect(fed.readableBytes == 0)
        guard frames.count == 3 else { return }
        if case .stun(let b) = frames[0] { #expect(b.readableBytes == RFC5769Tests.request.count) } else { Issue.record("frame 0 not STUN") }
        if case .channelData(let ch, let p) = frames[1] { #expect(ch == 0x4002); #expect(Array(p.readableBytesView) == [1, 2, 3, 4, 5]) } else { Issue.record("frame 1 not ChannelData") }
        if case .stun = frames[2] {} else { Issue.record("frame 2 not STUN") }
        var bad = ByteBuffer(bytes: [0x80, 0, 0, 0])
        #expect(throws: TURNFramingError.self) { try TURNStreamFramer.nextFrame(&bad) }
    }

    @Test func messageTypeInterleaving() {
        for method in [STUNMethod.binding, .allocate, .refresh, .send, .data, .createPermission, .channelBind] {
            for cls in [STUNClass.request, .indication, .successResponse, .errorResponse] {
                let t = stunMessageType(method: method.rawValue, messageClass: cls)
                let (m, c) = stunSplitMessageType(t)
                #expect(m == method.rawValue && c == cls)
            }
        }
        #expect(stunMessageType(method: 0x003, messageClass: .successResponse) == 0x0103)
        #expect(stunMessageType(method: 0x003, messageClass: .errorResponse) == 0x0113)
        #expect(stunMessageType(method: 0x007, messageClass: .indication) == 0x0017)
    }
}
