import Foundation
import OtterAWS

/// Follows a stack operation: prints each new event as one line with the
/// elapsed time and a progress count, until the stack leaves `*_IN_PROGRESS`.
public struct StackWatcher: Sendable {
    let cfn: CloudFormation
    let console: Console
    let pollSeconds: Double

    public struct Outcome: Sendable {
        public var stack: CloudFormation.Stack?
        /// The first resource that failed in this operation (not a "cancelled" follower).
        public var firstFailure: CloudFormation.StackEvent?
    }

    /// IDs of the events that exist now, so `follow` prints only newer ones.
    func knownEvents(stack: String) async throws -> Set<String> {
        guard try await cfn.describeStack(name: stack) != nil else { return [] }
        return Set(try await cfn.describeStackEvents(name: stack).map(\.eventID))
    }

    func follow(stack: String, known: Set<String>, total: Int?, advice: String) async throws -> Outcome {
        var seen = known
        var done = Set<String>()
        var failure: CloudFormation.StackEvent?
        while true {
            let current = try await cfn.describeStack(name: stack)
            // Events after the status read, so the last events of a finished operation are printed.
            let events = (try? await cfn.describeStackEvents(name: current?.stackID ?? stack, knownEventIDs: seen)) ?? []
            for e in events.reversed() where !seen.contains(e.eventID) {
                seen.insert(e.eventID)
                if e.resourceType != "AWS::CloudFormation::Stack" || e.logicalID != stack,
                   e.status.hasSuffix("_COMPLETE") || e.status.hasSuffix("_FAILED") || e.status.hasSuffix("_SKIPPED") {
                    done.insert(e.logicalID)
                }
                if failure == nil, e.status.hasSuffix("_FAILED"), !Self.isCancellation(e.reason) { failure = e }
                console.say(line(e, progress: done.count, total: total))
            }
            guard let current, current.status.hasSuffix("_IN_PROGRESS") else {
                return Outcome(stack: current, firstFailure: failure)
            }
            try await Interrupts.shared.sleep(seconds: pollSeconds, advice: advice)
        }
    }

    func line(_ e: CloudFormation.StackEvent, progress: Int, total: Int?) -> String {
        let count = total.map { "[\(String(progress).leftPad(String($0).count))/\($0)]" } ?? "[\(progress)]"
        var s = "\(console.elapsed.leftPad(6))  \(count)  \(e.status.padding(toLength: 30, withPad: " ", startingAt: 0)) \(e.logicalID) (\(e.resourceType))"
        if let r = e.reason, !r.isEmpty { s += " — \(r)" }
        return s
    }

    static func isCancellation(_ reason: String?) -> Bool {
        guard let r = reason?.lowercased() else { return false }
        return r.contains("cancelled") || r.contains("canceled")
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
