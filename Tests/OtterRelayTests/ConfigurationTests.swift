import Testing
@testable import OtterRelay

@Suite struct ConfigurationTests {
    @Test func coturnFlagsInBothSpellings() throws {
        let c = try RelayConfiguration.parse(arguments: [
            "--listening-ip=127.0.0.1", "-p", "3479", "--use-auth-secret", "--static-auth-secret=a",
            "--static-auth-secret", "b", "-r", "otter.test", "--min-port=50000", "--max-port=50100",
            "--allow-loopback-peers", "--denied-peer-ip=8.8.8.0-8.8.8.255", "--allowed-peer-ip", "10.1.2.3",
            "--user-quota=3", "-Q", "7", "--stale-nonce=30", "--no-tls", "--no-cli", "--fingerprint", "--prometheus",
        ])
        #expect(c.listeningIPs == ["127.0.0.1"])
        #expect(c.listeningPort == 3479)
        #expect(c.staticAuthSecrets == ["a", "b"])
        #expect(c.realm == "otter.test")
        #expect(c.minPort == 50000 && c.maxPort == 50100)
        #expect(c.userQuota == 3 && c.totalQuota == 7)
        #expect(c.nonceLifetime == 30)
        #expect(c.fingerprint && c.allowLoopbackPeers && c.noTLS)
        #expect(c.prometheusPort == 9641)
        #expect(c.warnings.contains { $0.contains("no-cli") })
        #expect(c.peerPolicy.permits(IPRange.parseIP("10.1.2.3")!))
        #expect(!c.peerPolicy.permits(IPRange.parseIP("8.8.8.8")!))
        #expect(c.peerPolicy.permits(IPRange.parseIP("8.8.9.1")!))
    }

    @Test func configFileThenFlagsOverride() throws {
        let file = """
        # a coturn file
        listening-port=3480
        realm = "example.org"
        lt-cred-mech
        user=alice:secret1
        user=bob:0x0123456789abcdef0123456789abcdef
        fingerprint
        no-dtls
        """
        let c = try RelayConfiguration.parse(arguments: ["-c", "/x.conf", "--realm=flag.org"], readFile: { _ in file })
        #expect(c.listeningPort == 3480)
        #expect(c.realm == "flag.org")
        #expect(c.users["alice"] == "secret1")
        #expect(c.longTermCredentials && c.fingerprint)
        let auth = Authenticator(configuration: c)
        #expect(auth.userKeys["bob"] == Authenticator.hexBytes("0123456789abcdef0123456789abcdef"))
    }

    @Test func unsupportedAndUnknownOptionsAreNamed() {
        #expect { try RelayConfiguration.parse(arguments: ["--user=a:b", "--tcp-relay"]) } throws: { e in
            (e as? RelayError)?.code == .unsupportedOption && "\(e)".contains("tcp-relay")
        }
        #expect { try RelayConfiguration.parse(arguments: ["--user=a:b", "--frobnicate"]) } throws: { e in
            (e as? RelayError)?.code == .unknownOption && "\(e)".contains("frobnicate")
        }
        #expect { try RelayConfiguration.parse(arguments: ["--listening-port=3478"]) } throws: { e in
            (e as? RelayError)?.message.contains("no credentials") == true
        }
        #expect { try RelayConfiguration.parse(arguments: ["--user=a:b", "--min-port=6000", "--max-port=5000"]) } throws: { e in
            (e as? RelayError)?.code == .badValue
        }
        #expect { try RelayConfiguration.parse(arguments: ["--use-auth-secret"]) } throws: { e in
            (e as? RelayError)?.message.contains("static-auth-secret") == true
        }
    }
}

@Suite struct PeerPolicyTests {
    func ip(_ s: String) -> STUNAddress.IP { IPRange.parseIP(s)! }

    @Test func defaultsDenyInternalRanges() {
        let p = PeerPolicy()
        for denied in ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                       "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "fd00:ec2::254", "fe80::1", "::", "::ffff:127.0.0.1",
                       "::ffff:169.254.169.254"] {
            #expect(!p.permits(ip(denied)), "\(denied) should be refused")
        }
        for allowed in ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "172.32.0.1", "::ffff:8.8.8.8"] {
            #expect(p.permits(ip(allowed)), "\(allowed) should be allowed")
        }
    }

    @Test func loopbackFlagAndAllowListWin() throws {
        var p = PeerPolicy(allowLoopback: true)
        #expect(p.permits(ip("127.0.0.1")))
        #expect(!p.permits(ip("10.0.0.1")))
        p.allowed = [try IPRange("10.0.0.0-10.0.0.255")]
        p.denied = [try IPRange("10.0.0.5")]
        #expect(p.permits(ip("10.0.0.5")), "allowed wins over denied, as in coturn")
        #expect(!p.permits(ip("10.0.1.1")))
        #expect(throws: RelayError.self) { try IPRange("10.0.0.9-10.0.0.1") }
        #expect(throws: RelayError.self) { try IPRange("10.0.0.0/8") }
    }
}
