import Foundation
import NIOCore
import OtterCore
import Testing
@testable import OtterRelay

let testSecret = "test-secret"

func withRelay(_ configure: (inout RelayConfiguration) -> Void = { _ in },
               _ body: (Int, RelayServer) async throws -> Void) async throws {
    var c = RelayConfiguration()
    c.listeningIPs = ["127.0.0.1"]
    c.listeningPort = 0
    c.realm = "otter.test"
    c.useAuthSecret = true
    c.staticAuthSecrets = [testSecret]
    c.minPort = 30000
    c.maxPort = 32000
    c.software = "otter-relay-test"
    // OTTER_RELAY_UDP/TCP=nio run the suites on NIO's paths, as with the CLI.
    c.applyIOPathSwitches(environment: ProcessInfo.processInfo.environment)
    configure(&c)
    let (server, ports) = try await startOnFreshPorts(c)
    do {
        try await body(try #require(ports.udp), server)
    } catch {
        try await server.shutdown()
        throw error
    }
    try await server.shutdown()
}

/// Starts a relay on port 0. UDP takes a free port and TCP then asks for the
/// same number, which another socket may already hold: a bind that fails
/// that way is retried on a new port instead of failing the test.
func startOnFreshPorts(_ c: RelayConfiguration, attempts: Int = 8) async throws -> (RelayServer, RelayServer.BoundPorts) {
    for attempt in 1... {
        let server = RelayServer(configuration: c)
        do {
            return (server, try await server.start())
        } catch let e as RelayError where e.code == .bindFailed && c.listeningPort == 0 && attempt < attempts {
            continue
        }
    }
    fatalError("unreachable")
}

func restClient(_ port: Int, ttl: TimeInterval = 3600, secret: String = testSecret) -> TURNTestClient {
    let creds = TurnCredentials.make(secret: secret, user: "alice", ttl: ttl)
    return TURNTestClient(serverPort: port, username: creds.username, password: creds.credential)
}

@Suite(.serialized) struct ServerTests {
    @Test func bindingReturnsTheClientAddress() async throws {
        try await withRelay { port, _ in
            let c = restClient(port)
            let reply = try #require(c.exchange(c.build(.binding, auth: false)))
            #expect(reply.isSuccess)
            let mapped = try #require(reply.xorAddress(.xorMappedAddress))
            #expect(mapped.ipString == "127.0.0.1")
            #expect(mapped.port == c.sock.port)
            #expect(reply.string(.software) == "otter-relay-test")
        }
    }

    @Test func allocateFlow437AndRetransmission() async throws {
        try await withRelay { port, _ in
            let c = restClient(port)
            let noAuth = try #require(c.exchange(c.build(.allocate, auth: false) { $0.append(.requestedTransport, uint32: 17 << 24) }))
            #expect(noAuth.code == 401)
            #expect(noAuth.string(.realm) == "otter.test")
            #expect(noAuth.string(.nonce) != nil)

            let tid = TransactionID.random()
            c.realm = noAuth.string(.realm)
            c.nonce = noAuth.string(.nonce)
            let req = c.build(.allocate, tid: tid) { $0.append(.requestedTransport, uint32: 17 << 24) }
            let ok = try #require(c.exchange(req))
            #expect(ok.isSuccess)
            #expect(STUNIntegrity.check(ok, key: c.key) == .valid(sha256: false))
            let relayed = try #require(ok.xorAddress(.xorRelayedAddress))
            #expect((30000...32000).contains(Int(relayed.port)))
            #expect(ok.lifetime == 600)
            #expect(ok.xorAddress(.xorMappedAddress)?.port == c.sock.port)

            let again = try #require(c.exchange(req))
            #expect(again.isSuccess, "a retransmission gets the original answer")
            #expect(Array(again.raw.readableBytesView) == Array(ok.raw.readableBytesView))

            let second = try #require(c.allocate())
            #expect(second.code == 437)

            let udpOnly = try #require(c.request(.allocate) { $0.append(.requestedTransport, uint32: 6 << 24) })
            #expect(udpOnly.code == 437, "the 5-tuple already has an allocation")
            let c2 = restClient(port)
            let tcp = try #require(c2.request(.allocate) { $0.append(.requestedTransport, uint32: 6 << 24) })
            #expect(tcp.code == 442)
            let missing = try #require(c2.request(.allocate))
            #expect(missing.code == 400)
            // Another 5-tuple cannot touch c's allocation.
            #expect(c2.request(.refresh)?.code == 437)
            #expect(c2.createPermission("8.8.8.8")?.code == 437)
            // Same 5-tuple, different (valid) user: 441.
            let mallory = TurnCredentials.make(secret: testSecret, user: "mallory", ttl: 3600)
            c.username = mallory.username
            c.password = mallory.credential
            #expect(c.request(.refresh)?.code == 441)
        }
    }

    @Test func wrongPasswordAndExpiredRESTUsernameGet401() async throws {
        try await withRelay { port, _ in
            let wrong = restClient(port, secret: "not-the-secret")
            #expect(wrong.allocate()?.code == 401)
            let expired = restClient(port, ttl: -10)
            #expect(expired.allocate()?.code == 401)
            let good = restClient(port)
            #expect(good.allocate()?.isSuccess == true)
        }
    }

    @Test func secretRotationAcceptsEverySecret() async throws {
        try await withRelay({ $0.staticAuthSecrets = ["old", testSecret] }) { port, _ in
            #expect(restClient(port, secret: "old").allocate()?.isSuccess == true)
            #expect(restClient(port).allocate()?.isSuccess == true)
        }
    }

    @Test func staleNonceGets438ThenRetrySucceeds() async throws {
        try await withRelay({ $0.nonceLifetime = 1 }) { port, _ in
            let c = restClient(port)
            #expect(c.allocate()?.isSuccess == true)
            let oldNonce = c.nonce
            try await Task.sleep(for: .milliseconds(2100))
            let stale = try #require(c.exchange(c.build(.refresh)))
            #expect(stale.code == 438)
            let fresh = try #require(stale.string(.nonce))
            #expect(fresh != oldNonce)
            c.nonce = fresh
            #expect(c.exchange(c.build(.refresh))?.isSuccess == true)
        }
    }

    @Test func staticUserAndSHA256Integrity() async throws {
        try await withRelay({ $0.useAuthSecret = false; $0.users = ["bob": "pw"] }) { port, _ in
            let c = TURNTestClient(serverPort: port, username: "bob", password: "pw")
            c.useSHA256 = true
            let ok = try #require(c.allocate())
            #expect(ok.isSuccess)
            #expect(ok.integritySHA256Index != nil)
            #expect(STUNIntegrity.check(ok, key: c.key) == .valid(sha256: true))
            let bad = TURNTestClient(serverPort: port, username: "bob", password: "nope")
            #expect(bad.allocate()?.code == 401)
        }
    }

    @Test func forbiddenPeersGet403() async throws {
        try await withRelay { port, _ in
            let c = restClient(port)
            #expect(c.allocate()?.isSuccess == true)
            for ip in ["127.0.0.1", "169.254.169.254", "10.0.0.1", "192.168.1.1", "::ffff:127.0.0.1"] {
                let r = try #require(c.createPermission(ip))
                #expect(r.code == 403, "\(ip) must be refused")
            }
            #expect(c.createPermission("8.8.8.8")?.isSuccess == true)
            let bind = try #require(c.request(.channelBind) { b in
                b.append(.channelNumber, uint32: 0x4000 << 16)
                b.append(.xorPeerAddress, address: STUNAddress(ip: IPRange.parseIP("10.0.0.1")!, port: 9), xor: true)
            })
            #expect(bind.code == 403)
        }
        try await withRelay({ $0.allowLoopbackPeers = true }) { port, _ in
            let c = restClient(port)
            #expect(c.allocate()?.isSuccess == true)
            #expect(c.createPermission("127.0.0.1")?.isSuccess == true)
            #expect(c.createPermission("10.0.0.1")?.code == 403)
        }
    }

    @Test func relaysChannelDataAndIndicationsBothWays() async throws {
        try await withRelay({ $0.allowLoopbackPeers = true }) { port, _ in
            let c = restClient(port)
            let alloc = try #require(c.allocate())
            let relayPort = try #require(alloc.xorAddress(.xorRelayedAddress)).port
            let peer = UDPSocket()
            let peerAddr = STUNAddress(ip: .v4(0x7F00_0001), port: peer.port)

            // No permission yet: the peer's datagram is dropped.
            peer.send([9, 9, 9], to: relayPort)
            #expect(c.sock.receive() == nil, "dropped: no permission for the peer")
            // Send indication with permission reaches the peer.
            #expect(c.createPermission("127.0.0.1", port: peer.port)?.isSuccess == true)
            var ind = STUNMessageBuilder(method: .send, messageClass: .indication, transactionID: .random())
            ind.append(.xorPeerAddress, address: peerAddr, xor: true)
            ind.append(.data, bytes: [1, 2, 3])
            c.sock.send(Array(ind.finish().readableBytesView), to: UInt16(port))
            let got = try #require(peer.receive())
            #expect(got.bytes == [1, 2, 3])
            #expect(got.fromPort == relayPort)

            // Peer → client without a channel: a Data indication.
            peer.send([4, 5], to: relayPort)
            let dataInd = try #require(c.sock.receive())
            let m = try STUNMessage(parsing: ByteBuffer(bytes: dataInd.bytes))
            #expect(m.knownMethod == .data && m.messageClass == .indication)
            #expect(m.xorAddress(.xorPeerAddress) == peerAddr)
            #expect(m.attribute(.data).map { Array($0.value.readableBytesView) } == [4, 5])

            // Bind a channel: ChannelData both ways.
            let bind = try #require(c.request(.channelBind) { b in
                b.append(.channelNumber, uint32: 0x4001 << 16)
                b.append(.xorPeerAddress, address: peerAddr, xor: true)
            })
            #expect(bind.isSuccess)
            var cd = ByteBuffer()
            ChannelData.write(channel: 0x4001, payload: ByteBuffer(bytes: [7, 7, 7, 7, 7]), padded: false, into: &cd)
            c.sock.send(Array(cd.readableBytesView), to: UInt16(port))
            #expect(peer.receive()?.bytes == [7, 7, 7, 7, 7])
            peer.send([8, 8], to: relayPort)
            let back = try #require(c.sock.receive())
            #expect(back.bytes == [0x40, 0x01, 0x00, 0x02, 8, 8])

            // Rebinding the channel to another peer is refused.
            let other = try #require(c.request(.channelBind) { b in
                b.append(.channelNumber, uint32: 0x4001 << 16)
                b.append(.xorPeerAddress, address: STUNAddress(ip: .v4(0x7F00_0001), port: 9), xor: true)
            })
            #expect(other.code == 400)
        }
    }

    @Test func refreshZeroDeletesAndQuotasApply() async throws {
        try await withRelay({ $0.userQuota = 1; $0.totalQuota = 2 }) { port, server in
            let a = restClient(port)
            #expect(a.allocate()?.isSuccess == true)
            let sameUser = restClient(port)
            #expect(sameUser.allocate()?.code == 486)
            let bob = TurnCredentials.make(secret: testSecret, user: "bob", ttl: 3600)
            let b = TURNTestClient(serverPort: port, username: bob.username, password: bob.credential)
            #expect(b.allocate()?.isSuccess == true)
            let carol = TurnCredentials.make(secret: testSecret, user: "carol", ttl: 3600)
            let c = TURNTestClient(serverPort: port, username: carol.username, password: carol.credential)
            // coturn answers total-quota with 486 too (check_new_allocation_quota).
            #expect(c.allocate()?.code == 486)

            let del = try #require(a.request(.refresh) { $0.append(.lifetime, uint32: 0) })
            #expect(del.isSuccess && del.lifetime == 0)
            #expect(a.request(.refresh)?.code == 437)
            #expect(sameUser.allocate()?.isSuccess == true, "the quota is free again")
            let text = try await server.metricsText()
            #expect(text.contains("turn_total_allocations 2"))
            #expect(text.contains("otter_relay_allocations_deleted_total 1"))
        }
    }

    @Test func unknownRequiredAttributeGets420() async throws {
        try await withRelay { port, _ in
            let c = restClient(port)
            let r = try #require(c.exchange(c.build(.binding, auth: false) { $0.append(STUNAttributeType(0x0031), bytes: [1, 2, 3, 4]) }))
            #expect(r.code == 420)
            #expect(r.attribute(.unknownAttributes).map { Array($0.value.readableBytesView) } == [0x00, 0x31])
            // Comprehension-optional ones (e.g. Chrome's TURN-LOGGING-ID 0xFF05) are ignored.
            let ok = try #require(c.exchange(c.build(.binding, auth: false) { $0.append(STUNAttributeType(0xFF05), bytes: [1, 2, 3, 4]) }))
            #expect(ok.isSuccess)
        }
    }
}


@Suite(.serialized) struct AllocateOptionTests {
    @Test func evenPortReservesTheNextPortForAToken() async throws {
        try await withRelay { port, _ in
            let a = restClient(port)
            let first = try #require(a.allocate { $0.append(.evenPort, bytes: [0x80]) })
            #expect(first.isSuccess)
            let relayed = try #require(first.xorAddress(.xorRelayedAddress))
            #expect(relayed.port % 2 == 0)
            let token = try #require(first.reservationToken)

            let b = restClient(port)
            let second = try #require(b.allocate { $0.append(.reservationToken, bytes: withUnsafeBytes(of: token.bigEndian) { Array($0) }) })
            #expect(second.isSuccess)
            #expect(second.xorAddress(.xorRelayedAddress)?.port == relayed.port + 1)

            let c = restClient(port)
            #expect(c.allocate { $0.append(.reservationToken, bytes: withUnsafeBytes(of: token.bigEndian) { Array($0) }) }?.code == 508,
                    "a token is used once")
            let d = restClient(port)
            #expect(d.allocate { b in
                b.append(.evenPort, bytes: [0x00])
                b.append(.reservationToken, bytes: [1, 2, 3, 4, 5, 6, 7, 8])
            }?.code == 400)
        }
    }

    @Test func dontFragmentAndIPv6FamilyRequests() async throws {
        try await withRelay { port, _ in
            let a = restClient(port)
            #expect(a.allocate { $0.appendEmpty(.dontFragment) }?.isSuccess == true)
            let b = restClient(port)
            #expect(b.allocate { $0.append(.requestedAddressFamily, uint32: 2 << 24) }?.code == 440)
        }
    }
}
