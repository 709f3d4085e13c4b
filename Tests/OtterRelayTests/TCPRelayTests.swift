#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import Testing
@testable import OtterRelay

/// Plain-TCP clients are written straight from the engine (StreamWriter)
/// and their relay sockets live in the UDP pump: these check what NIO's
/// write queue used to guarantee — every byte, in order, when the client
/// reads slower than the peer sends — and that closing frees everything
/// without a write ever reaching a closed or reused descriptor.
@Suite(.serialized) struct TCPRelayTests {
    /// The I/O paths withRelay's servers use (OTTER_RELAY_UDP/TCP as with the CLI).
    static var ioPaths: RelayConfiguration {
        var c = RelayConfiguration()
        c.applyIOPathSwitches(environment: ProcessInfo.processInfo.environment)
        return c
    }

    static func loopbackPeer(_ c: inout RelayConfiguration) { c.allowLoopbackPeers = true }

    /// Datagram `i` of a numbered stream: 997–1000 bytes (odd sizes need
    /// padding on TCP), the number in the first two bytes.
    static func datagram(_ i: Int) -> [UInt8] {
        var d = [UInt8](repeating: UInt8(truncatingIfNeeded: i &* 7), count: 997 + i % 4)
        d[0] = UInt8(i >> 8)
        d[1] = UInt8(truncatingIfNeeded: i)
        return d
    }

    /// Sends datagrams 0..<count to `port`, paced so the relay socket's
    /// receive buffer never overflows (UDP loss would not be the writer's).
    static func sendNumbered(from peer: UDPSocket, to port: UInt16, count: Int, tag: UInt8? = nil) {
        for i in 0..<count {
            var d = datagram(i)
            if let tag { d[2] = tag }
            peer.send(d, to: port)
            if i % 10 == 9 { usleep(2000) }
        }
    }

    /// An allocation with channel `number` bound to `peer`; returns the relay port.
    static func allocateAndBind(_ c: TCPTURNClient, peer: UDPSocket, number: UInt16 = 0x4000) throws -> UInt16 {
        let alloc = try #require(c.allocate())
        #expect(alloc.isSuccess)
        let relayPort = try #require(alloc.xorAddress(.xorRelayedAddress)).port
        #expect(c.channelBind(number, to: STUNAddress(ip: .v4(0x7F00_0001), port: peer.port))?.isSuccess == true)
        return relayPort
    }

    @Test func relayedDataBeyondTheSocketBufferArrivesWholeAndInOrder() async throws {
        // With OTTER_RELAY_TCP=nio a debug build's NIO relay socket cannot keep
        // up with this peer and drops UDP before the writer is involved.
        guard RelayServer.directStreamsEnabled(Self.ioPaths) else { return }
        // Room for all of it in the server's queue: nothing may be dropped.
        try await withRelay({ Self.loopbackPeer(&$0); $0.tcpClientQueueLimit = 16 << 20 }) { port, server in
            // A 4 KB receive window; loopback's send buffer grows to ~1–2 MB,
            // so 4 MB of relayed frames cannot all fit in the kernel.
            let c = restTCPClient(port, receiveBuffer: 4096)
            let peer = UDPSocket()
            let relayPort = try Self.allocateAndBind(c, peer: peer)
            let count = 4000
            Self.sendNumbered(from: peer, to: relayPort, count: count)
            // A response written while relayed bytes wait must come after them, in one piece.
            let refresh = c.build(.refresh)
            c.send(refresh)
            var next = 0
            var answered = false
            while next < count || !answered {
                guard let f = c.nextFrame() else { break }
                switch f {
                case .channelData(let number, let payload):
                    #expect(number == 0x4000)
                    #expect(payload == Self.datagram(next), "datagram \(next)")
                    next += 1
                case .stun(let bytes):
                    #expect(Array(bytes[8..<20]) == Array(refresh[8..<20]))
                    #expect(next == count, "the response follows every datagram queued before it")
                    answered = true
                }
            }
            #expect(next == count)
            #expect(answered)
            let text = try await server.metricsText()
            #expect(text.contains("otter_relay_dropped_socket_full_total 0"))
            #expect(text.contains("otter_relay_send_errors_total 0"))
            if RelayServer.directStreamsEnabled(Self.ioPaths) {
                #expect(!text.contains("otter_relay_tcp_write_waits_total 0\n"), "the socket buffer did fill up")
            }
        }
    }

    @Test func aClientThatStopsReadingLosesWholeDatagramsNeverStreamBytes() async throws {
        guard RelayServer.directStreamsEnabled(Self.ioPaths) else { return }  // NIO's queue has no limit
        try await withRelay({ Self.loopbackPeer(&$0); $0.tcpClientQueueLimit = 64 << 10 }) { port, server in
            let c = restTCPClient(port, receiveBuffer: 4096)
            let peer = UDPSocket()
            let relayPort = try Self.allocateAndBind(c, peer: peer)
            let count = 4000
            Self.sendNumbered(from: peer, to: relayPort, count: count)
            let refresh = c.build(.refresh)
            c.send(refresh)
            // Whatever arrives is whole frames, in increasing order, and the response is not lost.
            var last = -1
            var received = 0
            var answered = false
            while !answered, let f = c.nextFrame() {
                switch f {
                case .channelData(let number, let payload):
                    let i = Int(payload[0]) << 8 | Int(payload[1])
                    #expect(number == 0x4000 && i > last && payload == Self.datagram(i), "datagram \(i) after \(last)")
                    last = i
                    received += 1
                case .stun(let bytes):
                    #expect(Array(bytes[8..<20]) == Array(refresh[8..<20]))
                    answered = true
                }
            }
            #expect(answered)
            #expect(received < count)
            let text = try await server.metricsText()
            #expect(!text.contains("otter_relay_dropped_socket_full_total 0\n"))
        }
    }

    @Test func datagramsSentJustBeforeARefreshOfZeroStillReachThePeer() async throws {
        // ChannelData frames and a Refresh of lifetime 0 in one write reach
        // the pump in one read: the datagrams wait in its send batch
        // (DatagramBatch) when the Refresh frees the allocation and closes
        // the relay socket they are queued on. They must still leave, as
        // they would unbatched, and no flush may touch the closed socket.
        try await withRelay(Self.loopbackPeer) { port, server in
            let c = restTCPClient(port)
            let peer = UDPSocket()
            _ = try Self.allocateAndBind(c, peer: peer)
            var bytes: [UInt8] = []
            for i in 0..<5 {
                var cd = ByteBuffer()
                ChannelData.write(channel: 0x4000, payload: ByteBuffer(bytes: Self.datagram(i)), padded: true, into: &cd)
                bytes += Array(cd.readableBytesView)
            }
            let refresh = c.build(.refresh) { $0.append(.lifetime, uint32: 0) }
            c.send(bytes + refresh)
            var reply: STUNMessage?
            while reply == nil, let f = c.nextFrame() {
                if case .stun(let b) = f, Array(b[8..<20]) == Array(refresh[8..<20]) {
                    reply = try? STUNMessage(parsing: ByteBuffer(bytes: b))
                }
            }
            #expect(reply?.isSuccess == true && reply?.lifetime == 0, "the Refresh is answered")
            for i in 0..<5 {
                let got = peer.receive()
                #expect(got?.bytes == Self.datagram(i), "datagram \(i)")
            }
            let text = try await server.metricsText()
            #expect(text.contains("otter_relay_send_errors_total 0"))
            #expect(text.contains("turn_total_allocations 0"))
        }
    }

    @Test func closingMidStreamFreesTheAllocationAndItsRelayPort() async throws {
        try await withRelay(Self.loopbackPeer) { port, server in
            let c = restTCPClient(port, receiveBuffer: 4096)
            let peer = UDPSocket()
            let relayPort = try Self.allocateAndBind(c, peer: peer)
            // Leave a queue behind (the client reads nothing), then go away.
            Self.sendNumbered(from: peer, to: relayPort, count: 300)
            c.close()
            var gone = false
            for _ in 0..<40 where !gone {
                gone = try await server.metricsText().contains("turn_total_allocations 0")
                if !gone { try await Task.sleep(nanoseconds: 50_000_000) }
            }
            #expect(gone)
            #expect(Self.canBindUDP(port: relayPort), "the relay socket is closed")
            // The server goes on serving TCP clients.
            let d = restTCPClient(port)
            let relay2 = try Self.allocateAndBind(d, peer: peer)
            peer.send([1, 2, 3], to: relay2)
            #expect(d.nextFrame() == .channelData(channel: 0x4000, payload: [1, 2, 3]))
        }
    }

    /// Clients that close while the pump is still writing to them, over and
    /// over: descriptor numbers are reused at once by the next connection, so
    /// a write to a stale number would land in another client's stream.
    @Test func churningClientsNeverReceiveAnotherClientsBytes() async throws {
        try await withRelay(Self.loopbackPeer) { port, _ in
            let peer = UDPSocket()
            let a = restTCPClient(port)
            let relayA = try Self.allocateAndBind(a, peer: peer, number: 0x4001)
            for round in 0..<20 {
                let x = restTCPClient(port, receiveBuffer: 4096)
                let relayX = try Self.allocateAndBind(x, peer: peer)
                #expect(x.skippedFrames.isEmpty, "round \(round): a new connection got nothing but its own responses")
                Self.sendNumbered(from: peer, to: relayX, count: 60, tag: 0xEE)
                x.close()
                peer.send([UInt8(round), 0xAA], to: relayA)
                #expect(a.nextFrame() == .channelData(channel: 0x4001, payload: [UInt8(round), 0xAA]), "round \(round)")
            }
        }
    }

    /// The pump reads TCP clients itself once NIO handed them over: frames
    /// cut at any byte, and several in one read, are relayed whole and in order.
    @Test func clientFramesCutAnywhereReachThePeerWholeAndInOrder() async throws {
        try await withRelay(Self.loopbackPeer) { port, _ in
            let c = restTCPClient(port)
            let peer = UDPSocket()
            _ = try Self.allocateAndBind(c, peer: peer)
            let payloads: [[UInt8]] = [[1, 2, 3, 4, 5], Self.datagram(1), [9, 9, 9], Self.datagram(2), [7]]
            // A Binding request after the second frame: answered while the frames around it are relayed.
            let binding = STUNMessageBuilder(method: .binding, messageClass: .request, transactionID: .random())
            let request = Array(binding.finish().readableBytesView)
            var stream: [UInt8] = []
            for (i, p) in payloads.enumerated() {
                var cd = ByteBuffer()
                ChannelData.write(channel: 0x4000, payload: ByteBuffer(bytes: p), padded: true, into: &cd)
                stream += cd.readableBytesView
                if i == 1 { stream += request }
            }
            var offset = 0
            var piece = 1
            while offset < stream.count {
                let end = min(stream.count, offset + piece)
                c.send(Array(stream[offset..<end]))
                offset = end
                piece = piece % 13 + 1  // 1…13 bytes, so cuts land everywhere
                usleep(200)
            }
            for p in payloads { #expect(peer.receive()?.bytes == p) }
            let answer = try #require(c.nextFrame())
            guard case .stun(let bytes) = answer else { Issue.record("not a STUN answer: \(answer)"); return }
            #expect(Array(bytes[8..<20]) == Array(request[8..<20]))
        }
    }

    static func canBindUDP(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        addr.sin_port = port.bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
