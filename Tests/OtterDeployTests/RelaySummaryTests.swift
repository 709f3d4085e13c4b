import Testing
@testable import OtterDeploy
import OtterStacks

/// The relay part of the deploy summary, from stack outputs and template metadata.
@Suite struct RelaySummaryTests {
    static let metadata: JSON = ["options": ["relayUserQuota": .int(12), "relayTotalQuota": .string("1200"), "relayMaxBps": .int(375000),
                                             "maxPeers": .int(2)]]

    @Test func turnUrlsOutputWithATlsUrlNeedsNoHint() {
        let urls = "turn:relay.example.com:3478?transport=udp,turn:relay.example.com:3478?transport=tcp,turn:relay.example.com:443?transport=tcp,stun:relay.example.com:3478, turns:turn.example.com:443?transport=tcp"
        let r = RelaySummary(outputs: ["TurnUrls": urls, "RelayHost": "ignored.example.com"], metadata: Self.metadata)
        #expect(r.turnUrls == ["turn:relay.example.com:3478?transport=udp", "turn:relay.example.com:3478?transport=tcp",
                               "turn:relay.example.com:443?transport=tcp", "stun:relay.example.com:3478",
                               "turns:turn.example.com:443?transport=tcp"])
        #expect(r.hasTLS && r.tlsAdvice == nil)
        #expect(r.quotas == ["relayUserQuota": 12, "relayTotalQuota": 1200, "relayMaxBps": 375000])
        #expect(r.lines == [
            "TURN:    turn:relay.example.com:3478?transport=udp",
            "         turn:relay.example.com:3478?transport=tcp",
            "         turn:relay.example.com:443?transport=tcp",
            "         stun:relay.example.com:3478",
            "         turns:turn.example.com:443?transport=tcp",
            "Relay:   12 allocations per user, 1200 allocations in total, 375000 bytes/s per session",
        ])
    }

    @Test func withoutTlsTheSummaryNamesTheDomainOption() {
        let r = RelaySummary(outputs: ["TurnUrls": "turn:h:3478?transport=udp,stun:h:3478"], metadata: nil)
        #expect(r.tlsAdvice == "TURN over TLS needs a domain: otter deploy --domain turn.example.com --certificate-arn ARN")
        #expect(r.lines.last == r.tlsAdvice)
        #expect(r.quotas.isEmpty && r.quotaLine == nil)
    }

    @Test func aStackWithoutTurnUrlsFallsBackToRelayHost() {
        let r = RelaySummary(outputs: ["RelayHost": "nlb.elb.amazonaws.com"], metadata: ["options": ["relayMaxBps": .int(1000)]])
        #expect(r.turnUrls == ["turn:nlb.elb.amazonaws.com:3478?transport=udp", "turn:nlb.elb.amazonaws.com:3478?transport=tcp",
                               "stun:nlb.elb.amazonaws.com:3478"])
        #expect(r.quotaLine == "1000 bytes/s per session")
        #expect(r.tlsAdvice != nil)
    }

    @Test func noRelayNoLines() {
        let r = RelaySummary(outputs: [:], metadata: nil)
        #expect(r.turnUrls.isEmpty && r.lines.isEmpty && r.tlsAdvice == nil)
    }

    /// Whatever quota keys the generated template carries are the ones shown.
    @Test func readsTheGeneratedTemplatesMetadata() throws {
        let metadata = try OtterStack.template(OtterStackOptions()).metadata["Otter"]
        guard case .object(let otter)? = metadata, case .object(let options)? = otter["options"] else {
            Issue.record("the template has no Otter.options metadata")
            return
        }
        let r = RelaySummary(outputs: ["RelayHost": "h"], metadata: metadata)
        for key in RelaySummary.quotaKeys {
            if case .int(let n)? = options[key] { #expect(r.quotas[key] == n) } else { #expect(r.quotas[key] == nil) }
        }
    }
}
