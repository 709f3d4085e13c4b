import Foundation

/// The CloudFormation calls `otter deploy` and `otter destroy` need (Query protocol).
public struct CloudFormation: Sendable {
    public struct Stack: Sendable, Equatable {
        public var stackID: String
        public var name: String
        public var status: String
        public var statusReason: String?
        public var outputs: [String: String]
        public var parameters: [String: String]
        public var tags: [String: String]
    }

    public struct StackEvent: Sendable, Equatable {
        public var eventID: String
        public var logicalID: String
        public var physicalID: String?
        public var resourceType: String
        public var status: String
        public var reason: String?
        public var timestamp: Date?
    }

    public struct Change: Sendable, Equatable {
        public var action: String          // Add | Modify | Remove | Import | Dynamic
        public var logicalID: String
        public var resourceType: String
        public var replacement: String?    // True | False | Conditional
    }

    public struct ChangeSet: Sendable, Equatable {
        public var id: String
        public var stackID: String?
        public var status: String
        public var statusReason: String?
        public var executionStatus: String?
        public var changes: [Change]
    }

    /// Where the template comes from: inline (≤ 51,200 bytes) or an S3 URL.
    public enum TemplateSource: Sendable {
        case body(String)
        case url(String)

        var parameter: (String, String) {
            switch self {
            case .body(let b): return ("TemplateBody", b)
            case .url(let u): return ("TemplateURL", u)
            }
        }
    }

    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    // MARK: Stacks

    public func createStack(name: String, template: TemplateSource, parameters: [String: String] = [:],
                            capabilities: [String] = [], tags: [String: String] = [:]) async throws -> String {
        var p: [(String, String)] = [("StackName", name), template.parameter]
        p += Self.members(parameters: parameters, capabilities: capabilities, tags: tags)
        let r = try await client.query(.cloudFormation, action: "CreateStack", p)
        return r.string("StackId") ?? ""
    }

    public func updateStack(name: String, template: TemplateSource, parameters: [String: String] = [:],
                            capabilities: [String] = [], tags: [String: String] = [:]) async throws -> String {
        var p: [(String, String)] = [("StackName", name), template.parameter]
        p += Self.members(parameters: parameters, capabilities: capabilities, tags: tags)
        let r = try await client.query(.cloudFormation, action: "UpdateStack", p)
        return r.string("StackId") ?? ""
    }

    public func deleteStack(name: String) async throws {
        _ = try await client.query(.cloudFormation, action: "DeleteStack", [("StackName", name)])
    }

    /// The stack, or nil when it does not exist (CloudFormation says so with a ValidationError).
    public func describeStack(name: String) async throws -> Stack? {
        do {
            let r = try await client.query(.cloudFormation, action: "DescribeStacks", [("StackName", name)])
            guard let s = r["Stacks"]?.all("member").first else { return nil }
            return Self.stack(from: s)
        } catch let e as AWSError where e.serviceCode == "ValidationError" && e.message.contains("does not exist") {
            return nil
        }
    }

    /// All events of a stack, newest first, following NextToken.
    /// Stops paging once a page holds an event of `knownEventIDs` (events come newest first).
    public func describeStackEvents(name: String, maxPages: Int = 100, knownEventIDs: Set<String> = []) async throws -> [StackEvent] {
        var events: [StackEvent] = []
        var token: String?
        for _ in 0..<maxPages {
            var p: [(String, String)] = [("StackName", name)]
            if let t = token { p.append(("NextToken", t)) }
            let r = try await client.query(.cloudFormation, action: "DescribeStackEvents", p)
            for m in r["StackEvents"]?.all("member") ?? [] {
                events.append(StackEvent(
                    eventID: m.string("EventId") ?? "", logicalID: m.string("LogicalResourceId") ?? "",
                    physicalID: m.string("PhysicalResourceId"), resourceType: m.string("ResourceType") ?? "",
                    status: m.string("ResourceStatus") ?? "", reason: m.string("ResourceStatusReason"),
                    timestamp: m.string("Timestamp").flatMap(Self.parseDate)))
            }
            token = r.string("NextToken")
            if token?.isEmpty ?? true { break }
            if !knownEventIDs.isEmpty, events.contains(where: { knownEventIDs.contains($0.eventID) }) { break }
        }
        return events
    }

    // MARK: Change sets

    public func createChangeSet(stackName: String, changeSetName: String, template: TemplateSource,
                                parameters: [String: String] = [:], capabilities: [String] = [],
                                tags: [String: String] = [:], create: Bool) async throws -> (id: String, stackID: String) {
        var p: [(String, String)] = [("StackName", stackName), ("ChangeSetName", changeSetName), template.parameter,
                                     ("ChangeSetType", create ? "CREATE" : "UPDATE")]
        p += Self.members(parameters: parameters, capabilities: capabilities, tags: tags)
        let r = try await client.query(.cloudFormation, action: "CreateChangeSet", p)
        return (r.string("Id") ?? "", r.string("StackId") ?? "")
    }

    /// A change set with all its changes (NextToken followed).
    public func describeChangeSet(stackName: String, changeSetName: String, maxPages: Int = 50) async throws -> ChangeSet {
        var token: String?
        var result: ChangeSet?
        for _ in 0..<maxPages {
            var p: [(String, String)] = [("StackName", stackName), ("ChangeSetName", changeSetName)]
            if let t = token { p.append(("NextToken", t)) }
            let r = try await client.query(.cloudFormation, action: "DescribeChangeSet", p)
            let changes = (r["Changes"]?.all("member") ?? []).compactMap { m -> Change? in
                guard let rc = m["ResourceChange"] else { return nil }
                return Change(action: rc.string("Action") ?? "", logicalID: rc.string("LogicalResourceId") ?? "",
                              resourceType: rc.string("ResourceType") ?? "", replacement: rc.string("Replacement"))
            }
            if result == nil {
                result = ChangeSet(id: r.string("ChangeSetId") ?? "", stackID: r.string("StackId"), status: r.string("Status") ?? "",
                                   statusReason: r.string("StatusReason"), executionStatus: r.string("ExecutionStatus"), changes: changes)
            } else {
                result!.changes += changes
            }
            token = r.string("NextToken")
            if token?.isEmpty ?? true { break }
        }
        return result!
    }

    public func executeChangeSet(stackName: String, changeSetName: String) async throws {
        _ = try await client.query(.cloudFormation, action: "ExecuteChangeSet", [("StackName", stackName), ("ChangeSetName", changeSetName)])
    }

    public func deleteChangeSet(stackName: String, changeSetName: String) async throws {
        _ = try await client.query(.cloudFormation, action: "DeleteChangeSet", [("StackName", stackName), ("ChangeSetName", changeSetName)])
    }

    // MARK: Encoding helpers

    static func members(parameters: [String: String], capabilities: [String], tags: [String: String]) -> [(String, String)] {
        var p: [(String, String)] = []
        for (i, key) in parameters.keys.sorted().enumerated() {
            p += [("Parameters.member.\(i + 1).ParameterKey", key), ("Parameters.member.\(i + 1).ParameterValue", parameters[key]!)]
        }
        for (i, c) in capabilities.enumerated() { p.append(("Capabilities.member.\(i + 1)", c)) }
        for (i, key) in tags.keys.sorted().enumerated() {
            p += [("Tags.member.\(i + 1).Key", key), ("Tags.member.\(i + 1).Value", tags[key]!)]
        }
        return p
    }

    static func stack(from s: XMLNode) -> Stack {
        func pairs(_ node: XMLNode?, _ k: String, _ v: String) -> [String: String] {
            var d: [String: String] = [:]
            for m in node?.all("member") ?? [] { if let key = m.string(k) { d[key] = m.string(v) ?? "" } }
            return d
        }
        return Stack(stackID: s.string("StackId") ?? "", name: s.string("StackName") ?? "", status: s.string("StackStatus") ?? "",
                     statusReason: s.string("StackStatusReason"),
                     outputs: pairs(s["Outputs"], "OutputKey", "OutputValue"),
                     parameters: pairs(s["Parameters"], "ParameterKey", "ParameterValue"),
                     tags: pairs(s["Tags"], "Key", "Value"))
    }

    static func parseDate(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }
}
