import Foundation
import Testing
@testable import OtterStacks

@Suite struct DeterminismTests {
    static let goldenURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden/default.json")

    @Test func sameOptionsSameBytes() throws {
        let a = try OtterStack.template(OtterStackOptions()).rendered()
        let b = try OtterStack.template(OtterStackOptions()).rendered()
        #expect(a == b)
        // Every variant differs from the default only where its option appears.
        let peers = try OtterStack.template(OtterStackOptions(maxPeers: 4)).rendered()
        #expect(peers != a)
        #expect(peers.replacingOccurrences(of: "\"maxPeers\": 4", with: "\"maxPeers\": 2")
            .replacingOccurrences(of: "\"Default\": 4,\n      \"Description\": \"Default maxPeers", with: "\"Default\": 2,\n      \"Description\": \"Default maxPeers") == a)
    }

    @Test func objectKeysAreSortedEverywhere() throws {
        func check(_ value: JSON, path: String) {
            switch value {
            case .object(let o):
                for (k, v) in o { check(v, path: path + "/" + k) }
            case .array(let items):
                for (i, v) in items.enumerated() { check(v, path: "\(path)[\(i)]") }
            default: break
            }
        }
        let text = try OtterStack.template(OtterStackOptions()).rendered()
        // Keys at the same indentation within one object appear in ascending order.
        var lastKeyAtIndent: [Int: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let indent = line.prefix(while: { $0 == " " }).count
            let body = line.dropFirst(indent)
            if body.hasPrefix("}") || body.hasPrefix("]") {
                lastKeyAtIndent = lastKeyAtIndent.filter { $0.key <= indent }
                continue
            }
            guard body.hasPrefix("\""), let colon = body.range(of: "\": ") else { continue }
            let key = String(body[body.index(after: body.startIndex)..<colon.lowerBound])
            if let previous = lastKeyAtIndent[indent] {
                #expect(previous.utf8.lexicographicallyPrecedes(key.utf8), "\(previous) before \(key)")
            }
            lastKeyAtIndent[indent] = key
            lastKeyAtIndent = lastKeyAtIndent.filter { $0.key <= indent }
        }
        check(try OtterStack.template(OtterStackOptions()).json, path: "")
    }

    /// The default template, byte for byte. After an intended change, regenerate with
    /// `OTTER_UPDATE_GOLDEN=1 swift test --filter golden` and review the diff.
    @Test func golden() throws {
        let text = try OtterStack.template(OtterStackOptions()).rendered()
        if ProcessInfo.processInfo.environment["OTTER_UPDATE_GOLDEN"] == "1" {
            try Data(text.utf8).write(to: Self.goldenURL)
        }
        let golden = try String(contentsOf: Self.goldenURL, encoding: .utf8)
        let (new, old) = (text.split(separator: "\n", omittingEmptySubsequences: false),
                          golden.split(separator: "\n", omittingEmptySubsequences: false))
        let first = Array(zip(new, old)).firstIndex { $0 != $1 } ?? min(new.count, old.count)
        let report = first < max(new.count, old.count)
            ? "line \(first + 1): golden \(first < old.count ? String(old[first]) : "<end>") / now \(first < new.count ? String(new[first]) : "<end>")"
            : ""
        #expect(text == golden, "template differs from Golden/default.json at \(report)")
    }
}

/// CloudFormation's quotas, so a growing stack fails here and not at deploy.
@Suite struct QuotaTests {
    @Test func withinCloudFormationLimits() throws {
        let template = try OtterStack.template(OtterStackOptions(relayImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter-relay:1.0"))
        let json = template.json
        #expect(json["Resources"]!.object!.count <= 500)
        #expect(json["Outputs"]!.object!.count <= 200)
        #expect(json["Parameters"]!.object!.count <= 200)
        // A TemplateURL (S3) template may have 1 MB; a TemplateBody only 51,200 bytes,
        // which this stack exceeds: `otter deploy` must upload it (see README).
        #expect(template.rendered().utf8.count < 1_000_000)
        #expect(template.rendered().utf8.count > 51_200)
    }
}
