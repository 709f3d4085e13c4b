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

    /// `phase` names the operation on the live progress line, e.g. "Creating otter".
    func follow(stack: String, known: Set<String>, total: Int?, advice: String, phase: String = "Waiting") async throws -> Outcome {
        var seen = known
        var done = Set<String>()
        var working: [String: CloudFormation.StackEvent] = [:]
        var latest: CloudFormation.StackEvent?
        var failure: CloudFormation.StackEvent?
        while true {
            let current = try await cfn.describeStack(name: stack)
            // Events after the status read, so the last events of a finished operation are printed.
            let events = (try? await cfn.describeStackEvents(name: current?.stackID ?? stack, knownEventIDs: seen)) ?? []
            for e in events.reversed() where !seen.contains(e.eventID) {
                seen.insert(e.eventID)
                let isStack = e.resourceType == "AWS::CloudFormation::Stack" && (e.logicalID == stack || e.logicalID == current?.name)
                if !isStack, e.status.hasSuffix("_COMPLETE") || e.status.hasSuffix("_FAILED") || e.status.hasSuffix("_SKIPPED") {
                    done.insert(e.logicalID)
                }
                if !isStack {
                    if e.status.hasSuffix("_IN_PROGRESS") { working[e.logicalID] = e } else { working[e.logicalID] = nil }
                    latest = e
                }
                let isFailure = e.status.hasSuffix("_FAILED") && !Self.isCancellation(e.reason)
                if failure == nil, isFailure { failure = e }
                let text = line(e, progress: done.count, total: total)
                // Failures always in full, whatever the console shows of the rest.
                if isFailure { console.say(text) } else { console.detail(text) }
            }
            console.progress(progressLine(phase: phase, done: done.count, total: total, working: working, latest: latest,
                                          status: current?.status))
            guard let current, current.status.hasSuffix("_IN_PROGRESS") else {
                var end = "\(console.elapsed.leftPad(6))  \(phase): \(current?.status ?? "DELETE_COMPLETE") (\(done.count)\(total.map { "/\($0)" } ?? "") resources)"
                if let path = console.logPath { end += "; every event in \(path)" }
                console.endProgress(end)
                return Outcome(stack: current, firstFailure: failure)
            }
            try await Interrupts.shared.sleep(seconds: pollSeconds, advice: advice)
        }
    }

    /// "  1m02s  Creating otter [34/96] · 5 in progress: RelayService (AWS::ECS::Service) CREATE_IN_PROGRESS"
    func progressLine(phase: String, done: Int, total: Int?, working: [String: CloudFormation.StackEvent],
                      latest: CloudFormation.StackEvent?, status: String?) -> String {
        var s = "\(console.elapsed.leftPad(6))  \(phase) [\(done)\(total.map { "/\($0)" } ?? "")]"
        if let status { s += " \(status)" }
        let shown = latest.flatMap { working[$0.logicalID] } ?? working.values.max { ($0.timestamp ?? .distantPast) < ($1.timestamp ?? .distantPast) }
        if let e = shown {
            s += " · \(working.count) in progress: \(e.logicalID) (\(e.resourceType))"
        } else if let e = latest {
            s += " · \(e.logicalID) \(e.status)"
        }
        return s
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
