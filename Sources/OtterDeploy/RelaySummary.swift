import Foundation
import OtterStacks

/// What the deploy summary says about the TURN relay: the ICE URLs clients get,
/// the relay's quotas, and whether TURN over TLS is available. Reads the
/// `TurnUrls` output and the `Otter.options` metadata when the template has
/// them; a template without them (older stacks) gets URLs built from `RelayHost`.
public struct RelaySummary: Sendable, Equatable, Codable {
    public var turnUrls: [String]
    /// `relayUserQuota`, `relayTotalQuota`, `relayMaxBps` from the template metadata, those present.
    public var quotas: [String: Int]

    public static let quotaKeys = ["relayUserQuota", "relayTotalQuota", "relayMaxBps"]
    public static let tlsHint = "TURN over TLS needs a domain: otter deploy --domain turn.example.com --certificate-arn ARN"

    public init(turnUrls: [String], quotas: [String: Int]) {
        self.turnUrls = turnUrls
        self.quotas = quotas
    }

    /// `outputs`: the stack's outputs; `metadata`: the template's `Metadata.Otter` object.
    public init(outputs: [String: String], metadata: JSON?) {
        if let list = outputs["TurnUrls"], !list.isEmpty {
            turnUrls = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } else if let host = outputs["RelayHost"], !host.isEmpty {
            let port = OtterStack.relayPort
            turnUrls = ["turn:\(host):\(port)?transport=udp", "turn:\(host):\(port)?transport=tcp", "stun:\(host):\(port)"]
        } else {
            turnUrls = []
        }
        quotas = [:]
        if case .object(let otter)? = metadata, case .object(let options)? = otter["options"] {
            for key in Self.quotaKeys {
                switch options[key] {
                case .int(let n)?: quotas[key] = n
                case .string(let s)?: if let n = Int(s) { quotas[key] = n }
                default: break
                }
            }
        }
    }

    /// TURN over TLS (`turns:`) is there only with a domain and its certificate.
    public var hasTLS: Bool { turnUrls.contains { $0.hasPrefix("turns:") } }

    /// The hint, when a relay exists and offers no `turns:` URL.
    public var tlsAdvice: String? { turnUrls.isEmpty || hasTLS ? nil : Self.tlsHint }

    /// One line, e.g. "10 allocations per user, 1000 in total, 375000 bytes/s per session"; nil without quotas.
    public var quotaLine: String? {
        var parts: [String] = []
        if let n = quotas["relayUserQuota"] { parts.append("\(n) allocations per user") }
        if let n = quotas["relayTotalQuota"] { parts.append("\(n) allocations in total") }
        if let n = quotas["relayMaxBps"] { parts.append("\(n) bytes/s per session") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// The summary's relay lines, aligned with the other summary lines.
    public var lines: [String] {
        var out: [String] = []
        for (i, url) in turnUrls.enumerated() { out.append((i == 0 ? "TURN:    " : "         ") + url) }
        if let q = quotaLine { out.append("Relay:   " + q) }
        if let advice = tlsAdvice { out.append(advice) }
        return out
    }
}
