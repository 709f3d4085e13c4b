import Foundation
import OtterCore
import Testing
@testable import OtterRelay

@Suite struct QuotaConfigurationTests {
    static let rest = ["--use-auth-secret", "--static-auth-secret=s"]

    @Test func defaultsAreFiniteWhereCoturnsAreUnlimited() throws {
        let c = try RelayConfiguration.parse(arguments: Self.rest)
        #expect(c.userQuota == 128 && c.totalQuota == 2000)
        #expect(c.maxBPS == 0 && c.bpsCapacity == 0)
        #expect(RelayConfiguration().userQuota == 128, "otter up's embedded relay builds its configuration in code")
    }

    @Test func coturnSpellingsOfTheQuotaFlags() throws {
        for args in [["--user-quota=64", "--total-quota=500", "--max-bps=300000", "--bps-capacity=9000000"],
                     ["--user-quota", "64", "--total-quota", "500", "--max-bps", "300000", "--bps-capacity", "9000000"],
                     ["-q", "64", "-Q", "500", "-s", "300000", "-B", "9000000"]] {
            let c = try RelayConfiguration.parse(arguments: Self.rest + args)
            #expect(c.userQuota == 64 && c.totalQuota == 500 && c.maxBPS == 300_000 && c.bpsCapacity == 9_000_000, "\(args)")
        }
        let file = "user-quota=5\ntotal-quota = 6\nmax-bps=7000\nbps-capacity=70000\n"
        let c = try RelayConfiguration.parse(arguments: ["-c", "/t.conf"] + Self.rest, readFile: { _ in file })
        #expect(c.userQuota == 5 && c.totalQuota == 6 && c.maxBPS == 7000 && c.bpsCapacity == 70000)
        let unlimited = try RelayConfiguration.parse(arguments: Self.rest + ["--user-quota=0", "--total-quota=0"])
        #expect(unlimited.userQuota == 0 && unlimited.totalQuota == 0)
    }

    @Test func bpsCapacityNeedsMaxBPSAsInCoturn() {
        #expect { try RelayConfiguration.parse(arguments: Self.rest + ["--bps-capacity=1000"]) } throws: { e in
            (e as? RelayError)?.message.contains("max-bps") == true
        }
        #expect { try RelayConfiguration.parse(arguments: Self.rest + ["--user-quota=-1"]) } throws: { e in
            (e as? RelayError)?.code == .badValue
        }
    }

    /// coturn's get_real_username: the REST timestamp is dropped, whichever side it is on.
    @Test func quotaUserIsTheRestUsernameWithoutItsTimestamp() {
        #expect(RelayEngine.quotaUser("1767225600:room1", restScheme: true) == "room1")
        #expect(RelayEngine.quotaUser("room1:1767225600", restScheme: true) == "room1")
        #expect(RelayEngine.quotaUser("1767225600", restScheme: true) == "1767225600")
        #expect(RelayEngine.quotaUser(":room1", restScheme: true) == "room1")
        #expect(RelayEngine.quotaUser("1767225600:room1", restScheme: false) == "1767225600:room1")
    }

    @Test func loopbackHosts() {
        for h in ["127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1"] { #expect(PeerPolicy.isLoopback(host: h), "\(h)") }
        for h in ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.com"] { #expect(!PeerPolicy.isLoopback(host: h), "\(h)") }
    }
}

@Suite(.serialized) struct QuotaServerTests {
    func client(_ port: Int, room: String, ttl: TimeInterval = 3600) -> TURNTestClient {
        let creds = TurnCredentials.make(secret: testSecret, user: room, ttl: ttl)
        return TURNTestClient(serverPort: port, username: creds.username, password: creds.credential)
    }

    @Test func aRoomsCredentialsShareOneUserQuota() async throws {
        try await withRelay({ $0.userQuota = 2 }) { port, server in
            // Credentials handed out at different times differ in their expiry.
            #expect(client(port, room: "r1", ttl: 3600).allocate()?.isSuccess == true)
            #expect(client(port, room: "r1", ttl: 3700).allocate()?.isSuccess == true)
            let over = try #require(client(port, room: "r1", ttl: 3800).allocate())
            #expect(over.code == 486)
            #expect(over.errorCode?.reason == "Allocation Quota Reached")
            #expect(client(port, room: "r2").allocate()?.isSuccess == true)
            #expect(try await server.metricsText().contains("otter_relay_allocations_over_quota_total 1"))
        }
    }

    @Test func bpsCapacityIsSharedOut() async throws {
        try await withRelay({ $0.maxBPS = 1000; $0.bpsCapacity = 1500 }) { port, _ in
            let a = client(port, room: "a")
            #expect(a.allocate()?.isSuccess == true)
            #expect(client(port, room: "b").allocate()?.isSuccess == true, "gets the 500 left")
            let over = try #require(client(port, room: "c").allocate())
            #expect(over.code == 486 && over.errorCode?.reason == "Allocation Bandwidth Quota Reached")
            #expect(a.request(.refresh) { $0.append(.lifetime, uint32: 0) }?.isSuccess == true)
            #expect(client(port, room: "c").allocate()?.isSuccess == true, "a freed allocation returns its bandwidth")
        }
    }
}
