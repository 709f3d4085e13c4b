#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Testing
@testable import OtterRelay

/// Deterministic generator so a failing mutation can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Mutator {
    /// Valid messages of every kind the server handles, to mutate from.
    static func seeds() -> [[UInt8]] {
        var out = [RFC5769Tests.request, RFC5769Tests.ipv4Response, RFC5769Tests.ipv6Response, RFC5769Tests.longTermRequest]
        let key = STUNIntegrity.longTermKey(username: "u", realm: "otter.test", password: "p")
        func msg(_ m: STUNMethod, _ cls: STUNClass = .request, _ body: (inout STUNMessageBuilder) -> Void) -> [UInt8] {
            var b = STUNMessageBuilder(method: m, messageClass: cls, transactionID: .random())
            body(&b)
            return Array(b.finish().readableBytesView)
        }
        let peer = STUNAddress(ip: .v4(0x0808_0808), port: 3478)
        out.append(msg(.allocate) { b in
            b.append(.requestedTransport, uint32: 17 << 24); b.append(.lifetime, uint32: 600)
            b.append(.evenPort, bytes: [0x80]); b.append(.username, string: "u"); b.append(.realm, string: "otter.test")
            b.append(.nonce, string: "abc"); b.appendMessageIntegrity(key: key); b.appendFingerprint()
        })
        out.append(msg(.channelBind) { b in
            b.append(.channelNumber, uint32: 0x4000 << 16); b.append(.xorPeerAddress, address: peer, xor: true)
            b.appendMessageIntegritySHA256(key: key)
        })
        out.append(msg(.createPermission) { b in
            b.append(.xorPeerAddress, address: peer, xor: true)
            b.append(.xorPeerAddress, address: STUNAddress(ip: .v6(1, 2), port: 1), xor: true)
        })
        out.append(msg(.send, .indication) { b in b.append(.xorPeerAddress, address: peer, xor: true); b.append(.data, bytes: [1, 2, 3]) })
        out.append(msg(.refresh) { b in b.append(.lifetime, uint32: 0); b.append(.reservationToken, bytes: [1, 2, 3, 4, 5, 6, 7, 8]) })
        var cd = ByteBuffer()
        ChannelData.write(channel: 0x4000, payload: ByteBuffer(bytes: Array(repeating: 0xAB, count: 37)), padded: true, into: &cd)
        out.append(Array(cd.readableBytesView))
        return out
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        let rounds = Int.random(in: 1...4, using: &rng)
        for _ in 0..<rounds {
            switch Int.random(in: 0..<8, using: &rng) {
            case 0 where !b.isEmpty: // flip bits
                b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            case 1 where !b.isEmpty: // truncate
                b.removeLast(Int.random(in: 0...b.count, using: &rng))
            case 2: // append junk
                b += (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 3 where b.count >= 4: // rewrite the message length field
                let v = UInt16.random(in: 0...UInt16.max, using: &rng)
                b[2] = UInt8(v >> 8); b[3] = UInt8(v & 0xFF)
            case 4 where b.count >= 24: // rewrite an attribute length somewhere after the header
                let i = Int.random(in: 20..<(b.count - 2), using: &rng)
                b[i] = 0xFF; b[i + 1] = UInt8.random(in: 0...255, using: &rng)
            case 5 where b.count >= 20: // insert a random attribute header
                let i = 20 + 4 * Int.random(in: 0...((b.count - 20) / 4), using: &rng)
                let hdr: [UInt8] = [UInt8.random(in: 0...0x80, using: &rng), UInt8.random(in: 0...255, using: &rng),
                                    0, UInt8.random(in: 0...12, using: &rng)]
                b.insert(contentsOf: hdr, at: min(i, b.count))
            case 6 where !b.isEmpty: // set an interesting byte
                b[Int.random(in: 0..<b.count, using: &rng)] = [0x00, 0xFF, 0x40, 0x80, 0x7F, 0x01].randomElement(using: &rng)!
            default: // duplicate a slice
                if b.count > 4 {
                    let s = Int.random(in: 0..<(b.count - 4), using: &rng)
                    b += b[s..<(s + 4)]
                }
            }
        }
        return b
    }

    /// Runs every decoder and accessor on the bytes. Must never trap.
    static func exercise(_ bytes: [UInt8]) -> Bool {
        let buf = ByteBuffer(bytes: bytes)
        var parsed = false
        if let m = try? STUNMessage(parsing: buf) {
            parsed = true
            _ = m.string(.username); _ = m.string(.realm); _ = m.string(.nonce); _ = m.string(.software)
            _ = m.lifetime; _ = m.channelNumber; _ = m.requestedTransport; _ = m.requestedAddressFamily
            _ = m.evenPort; _ = m.reservationToken; _ = m.errorCode
            _ = m.xorAddress(.xorPeerAddress); _ = m.xorAddresses(.xorPeerAddress); _ = m.address(.mappedAddress)
            _ = m.xorAddress(.xorMappedAddress); _ = m.xorAddress(.xorRelayedAddress)
            _ = m.unknownRequiredAttributes(known: RelayEngine.knownAttributes)
            _ = STUNIntegrity.check(m, key: [1, 2, 3])
        }
        _ = ChannelData.parse(buf)
        var stream = buf
        for _ in 0..<64 {
            guard let f = try? TURNStreamFramer.nextFrame(&stream) else { break }
            _ = f
        }
        return parsed
    }
}

@Suite(.serialized) struct FuzzTests {
    @Test func codecSurvives120kMutations() {
        var rng = SplitMix64(state: 0x0775_7E12)
        let seeds = Mutator.seeds()
        for s in seeds { #expect(Mutator.exercise(s) || s.first! & 0xC0 == 0x40, "seed must parse") }
        var parsed = 0
        for _ in 0..<120_000 {
            let m = Mutator.mutate(seeds.randomElement(using: &rng)!, &rng)
            if Mutator.exercise(m) { parsed += 1 }
        }
        // Some mutations keep the message valid: proves the mutator is not only producing garbage.
        #expect(parsed > 1000)
        #expect(parsed < 120_000)
    }

    @Test func serverSurvives100kMutatedDatagramsThenServesAClient() async throws {
        try await withRelay({ $0.allowLoopbackPeers = true }) { port, server in
            let attacker = UDPSocket(timeoutMillis: 200)
            var rng = SplitMix64(state: 0xBADC_0FFE)
            let seeds = Mutator.seeds()
            for i in 0..<100_000 {
                attacker.send(Mutator.mutate(seeds.randomElement(using: &rng)!, &rng), to: UInt16(port))
                if i % 2000 == 1999 {
                    // Pace the flood so the kernel does not simply drop it, and check liveness.
                    // UDP under a flood on a loaded machine may drop a probe: a live
                    // server answers one of a few tries, a dead one none.
                    let probe = TURNTestClient(serverPort: port, username: "x", password: "y")
                    let answered = (0..<5).contains { _ in probe.exchange(probe.build(.binding, auth: false))?.isSuccess == true }
                    #expect(answered, "server answers after \(i + 1) datagrams")
                }
            }
            let text = try await server.metricsText()
            let malformed = text.split(separator: "\n").first { $0.hasPrefix("otter_relay_malformed_total ") }
            #expect((malformed.flatMap { Int($0.split(separator: " ")[1]) } ?? 0) > 10_000)

            let c = restClient(port)
            let alloc = try #require(c.allocate())
            #expect(alloc.isSuccess)
            let relayPort = try #require(alloc.xorAddress(.xorRelayedAddress)).port
            let peer = UDPSocket()
            #expect(c.createPermission("127.0.0.1", port: peer.port)?.isSuccess == true)
            peer.send([42], to: relayPort)
            let got = try #require(c.sock.receive())
            let m = try STUNMessage(parsing: ByteBuffer(bytes: got.bytes))
            #expect(m.attribute(.data).map { Array($0.value.readableBytesView) } == [42])
        }
    }
}
