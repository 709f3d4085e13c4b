import Foundation
import OtterAWS

/// Creating a change set, waiting for CloudFormation to compute it, and
/// showing it. "No changes" is a result, not a failure.
struct ChangeSetReview: Sendable {
    let cfn: CloudFormation
    let console: Console
    let pollSeconds: Double

    enum Result: Sendable {
        case upToDate
        case ready(name: String, changes: [CloudFormation.Change])
    }

    func create(stack: String, template: CloudFormation.TemplateSource, parameters: [String: String],
                tags: [String: String], isCreate: Bool) async throws -> Result {
        let name = "otter-" + Self.stamp()
        _ = try await cfn.createChangeSet(stackName: stack, changeSetName: name, template: template, parameters: parameters,
                                          capabilities: ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"], tags: tags, create: isCreate)
        while true {
            let set: CloudFormation.ChangeSet
            do {
                set = try await cfn.describeChangeSet(stackName: stack, changeSetName: name)
            } catch {
                try? await cfn.deleteChangeSet(stackName: stack, changeSetName: name)
                throw error
            }
            switch set.status {
            case "CREATE_COMPLETE":
                return .ready(name: name, changes: set.changes)
            case "FAILED":
                try? await cfn.deleteChangeSet(stackName: stack, changeSetName: name)
                let reason = set.statusReason ?? "no reason given"
                if Self.meansNoChanges(reason) { return .upToDate }
                throw DeployError(.changeSetFailed, "CloudFormation could not prepare the change set: \(reason)")
            default:
                do {
                    try await Interrupts.shared.sleep(seconds: pollSeconds, advice: "Interrupted before anything was changed.")
                } catch {
                    try? await cfn.deleteChangeSet(stackName: stack, changeSetName: name)
                    throw error
                }
            }
        }
    }

    static func meansNoChanges(_ reason: String) -> Bool {
        reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
    }

    /// `all`: list every change on screen (the user is asked to confirm them).
    /// Otherwise a live console shows only what removes or replaces something;
    /// the full list goes to the log.
    func show(_ changes: [CloudFormation.Change], all: Bool = true) {
        guard !changes.isEmpty else {
            console.say("Changes: parameters or outputs only (CloudFormation lists no resource change)")
            return
        }
        let counts = Dictionary(grouping: changes, by: \.action).mapValues(\.count)
        console.say("Changes: " + ["Add", "Modify", "Remove"].compactMap { a in counts[a].map { "\($0) to \(a.lowercased())" } }.joined(separator: ", "))
        for c in changes.sorted(by: { ($0.action, $0.logicalID) < ($1.action, $1.logicalID) }) {
            let mark: String
            switch c.action {
            case "Add": mark = "+"
            case "Remove": mark = "-"
            case "Modify": mark = c.replacement == "True" ? "!" : "~"
            default: mark = "?"
            }
            var line = "  \(mark) \(c.action.padding(toLength: 7, withPad: " ", startingAt: 0)) \(c.logicalID) (\(c.resourceType))"
            if c.action == "Modify", let r = c.replacement {
                line += r == "True" ? " — REPLACED (new physical resource)" : r == "Conditional" ? " — may be replaced" : ""
            }
            let destructive = c.action == "Remove" || (c.action == "Modify" && c.replacement != nil && c.replacement != "False")
            if all || destructive { console.say(line) } else { console.detail(line) }
        }
    }

    static func stamp() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return f.string(from: Date())
    }
}
