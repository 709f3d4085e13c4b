import Foundation
import NIOCore
import OtterCore
import Testing
@testable import OtterRelay

/// Several pump shards (coturn's --relay-threads): UDP clients spread by the
/// kernel over SO_REUSEPORT listeners, each shard with its own state, the
/// quotas and reservations shared. Runs only on Linux, where the pump is.
@Suite(.serialized) struct PumpShardTests {
    #if os(Linux)
    func client(_ port: Int, room: String = "alice") -> TURNTestClient {
        let creds = TurnCredentials.make(secret: testSecret, user: room, ttl: 3600)
        return TURNTestClient(serverPort: port, username: creds.username, password: creds.credential)
    }

    @Test func udpClientsSpreadOverTheShardsAndEveryShardRelays() async throws {
        try await withRelay({ $0.relayThreads = 2; $0.allowLoopbackPeers = true; $0.userQuota = 0 }) { port, server in
            guard server.shardCount == 2 else { return }  // OTTER_RELAY_UDP=nio: no pump, one shard
            let peer = UDPSocket()
            let peerAddr = STUNAddress(ip: .v4(0x7F00_0001), port: peer.port)
            var clients: [TURNTestClient] = []
            // 16 source ports: all on one shard has odds of 2 in 65,536.
            for i in 0..<16 {
                let c = client(port)
                let alloc = try #require(c.allocate())
                #expect(alloc.isSuccess)
                #expect(c.channelBind(0x4000, to: peerAddr)?.isSuccess == true)
                c.sendChannelData(0x4000, [UInt8(i)])
                let got = try #require(peer.receive(), "client \(i)'s datagram reached the peer")
                #expect(got.bytes == [UInt8(i)])
                // And back, through whichever shard holds the allocation.
                peer.send([UInt8(i), 1], to: got.fromPort)
                let back = try #require(c.sock.receive())
                #expect(Array(back.bytes.prefix(6)) == [0x40, 0x00, 0x00, 0x02, UInt8(i), 1])
                clients.append(c)
            }
            let perShard = server.allocationsPerShard()
            #expect(perShard.count == 2 && perShard.allSatisfy { $0 > 0 }, "\(perShard)")
            let metrics = try await server.metricsText()
            #expect(metrics.contains("turn_total_allocations 16"), "the shards' gauges are summed")
            #expect(metrics.contains("turn_traffic_rcvp 16") && metrics.contains("turn_traffic_sentp 16"))
        }
    }

    @Test func totalQuotaCountsTheAllocationsOfEveryShard() async throws {
        try await withRelay({ $0.relayThreads = 4; $0.totalQuota = 5; $0.userQuota = 0 }) { port, server in
            var granted: [TURNTestClient] = []
            var refused = 0
            for i in 0..<10 {
                let c = client(port, room: "room\(i)")
                let r = try #require(c.allocate())
                if r.isSuccess { granted.append(c) } else if r.code == 486 { refused += 1 }
            }
            #expect(granted.count == 5 && refused == 5)
            #expect(server.allocationsPerShard().reduce(0, +) == 5)
            #expect(granted[0].request(.refresh) { $0.append(.lifetime, uint32: 0) }?.isSuccess == true)
            #expect(client(port, room: "late").allocate()?.isSuccess == true, "a freed allocation frees its quota on any shard")
            #expect(client(port, room: "later").allocate()?.code == 486)
        }
    }

    @Test func userQuotaCountsTheAllocationsOfEveryShard() async throws {
        try await withRelay({ $0.relayThreads = 4; $0.userQuota = 3 }) { port, server in
            let results = (0..<8).map { _ in client(port, room: "r1").allocate()?.code }
            #expect(results.filter { $0 == nil }.count == 3, "\(results)")
            #expect(results.filter { $0 == 486 }.count == 5, "\(results)")
            #expect(client(port, room: "r2").allocate()?.isSuccess == true)
            #expect(server.allocationsPerShard().reduce(0, +) == 4)
        }
    }

    /// RFC 8656 §7.2: the token may be presented by another 5-tuple, which
    /// the kernel may hash to another shard than the one that reserved.
    @Test func aReservationIsTakenFromAnotherShard() async throws {
        try await withRelay({ $0.relayThreads = 2; $0.userQuota = 0 }) { port, server in
            guard server.shardCount == 2 else { return }
            let a = client(port)
            let first = try #require(a.allocate { $0.append(.evenPort, bytes: [0x80]) })
            let relayed = try #require(first.xorAddress(.xorRelayedAddress))
            let token = try #require(first.reservationToken)
            let home = try #require(server.shard(ofUDPClientPort: Int(a.sock.port)))
            // A client on the other shard: allocate to find out where it lands, free, and keep the one that is elsewhere.
            var other: TURNTestClient?
            for _ in 0..<32 where other == nil {
                let b = client(port)
                #expect(b.allocate()?.isSuccess == true)
                if server.shard(ofUDPClientPort: Int(b.sock.port)) != home { other = b }
                #expect(b.request(.refresh) { $0.append(.lifetime, uint32: 0) }?.isSuccess == true)
            }
            let b = try #require(other, "no client port hashed to the other shard in 32 tries")
            let second = try #require(b.allocate { $0.append(.reservationToken, bytes: withUnsafeBytes(of: token.bigEndian) { Array($0) }) })
            #expect(second.isSuccess)
            #expect(second.xorAddress(.xorRelayedAddress)?.port == relayed.port + 1)
            #expect(server.shard(ofUDPClientPort: Int(b.sock.port)) != home)
        }
    }

    /// With SO_REUSEPORT a second relay of the same user would silently share
    /// the port and get some of the clients: it must fail to start instead.
    @Test func aSecondRelayOnTheSameUDPPortIsRefused() async throws {
        try await withRelay({ $0.relayThreads = 2 }) { port, _ in
            var c = RelayConfiguration()
            c.listeningIPs = ["127.0.0.1"]
            c.listeningPort = port
            c.noTCP = true
            c.useAuthSecret = true
            c.staticAuthSecrets = [testSecret]
            c.relayThreads = 2
            let second = RelayServer(configuration: c)
            await #expect { try await second.start() } throws: { e in
                (e as? RelayError)?.code == .bindFailed && "\(e)".contains("127.0.0.1:\(port)")
            }
            try await second.shutdown()
        }
    }
    #endif

    @Test func relayThreadsIsCoturnsFlag() throws {
        let rest = ["--use-auth-secret", "--static-auth-secret=s"]
        #expect(try RelayConfiguration.parse(arguments: rest + ["--relay-threads=3"]).pumpShards == 3)
        #expect(try RelayConfiguration.parse(arguments: rest + ["-m", "0"]).pumpShards == 1, "coturn's 0: one thread")
        let auto = try RelayConfiguration.parse(arguments: rest)
        #expect(auto.relayThreads == nil)
        #if os(Linux)
        #expect(auto.pumpShards == 1, "one shard unless asked for more")
        var nio = auto
        nio.udpOnPump = false
        nio.relayThreads = 4
        #expect(nio.pumpShards == 1, "NIO's datagram path has one loop")
        #endif
        #expect { try RelayConfiguration.parse(arguments: rest + ["--relay-threads=many"]) } throws: { e in
            (e as? RelayError)?.code == .badValue
        }
    }
}
