import Foundation
@testable import OtterStacks

/// Walks a rendered template and reports the stack's security rules that it
/// breaks. Works on JSON (not on the Swift values) so it checks what
/// CloudFormation will actually receive.
struct PolicyWalker {
    /// Actions AWS only authorizes on `Resource: "*"` (no resource-level permissions).
    static let actionsWithoutResourceLevel: Set<String> = ["ec2:DescribeNetworkInterfaces", "ecr:GetAuthorizationToken"]

    let template: JSON
    var resources: [String: JSON] { template["Resources"]?.object ?? [:] }

    func violations() -> [String] {
        var found: [String] = []
        for (id, resource) in resources.sorted(by: { $0.key < $1.key }) {
            let type = resource["Type"]?.string ?? ""
            let properties = resource["Properties"] ?? [:]
            if type == "AWS::IAM::Role" {
                for policy in properties["Policies"]?.array ?? [] {
                    for s in statements(policy["PolicyDocument"]) { found += iamStatement(s, in: id) }
                }
            }
            if type == "AWS::IAM::Policy" || type == "AWS::IAM::ManagedPolicy" {
                found.append("\(id): standalone policies are not used by Otter; put them on the role")
            }
            if type == "AWS::S3::BucketPolicy" {
                for s in statements(properties["PolicyDocument"]) { found += bucketStatement(s, in: id) }
            }
        }
        found += secretsInOutputs()
        return found
    }

    private func statements(_ document: JSON?) -> [JSON] {
        guard let s = document?["Statement"] else { return [] }
        return s.array ?? [s]
    }

    private func list(_ value: JSON?) -> [JSON] {
        guard let value else { return [] }
        return value.array ?? [value]
    }

    private func iamStatement(_ s: JSON, in id: String) -> [String] {
        guard s["Effect"]?.string == "Allow" else { return [] }
        var found: [String] = []
        let actions = list(s["Action"]).compactMap(\.string)
        if s["NotAction"] != nil || s["NotResource"] != nil { found.append("\(id): NotAction/NotResource") }
        for action in actions where action.contains("*") {
            found.append("\(id): wildcard action \(action)")
        }
        let resources = list(s["Resource"])
        if resources.isEmpty { found.append("\(id): statement without Resource") }
        if resources.contains(.string("*")) {
            for action in actions where !Self.actionsWithoutResourceLevel.contains(action) {
                found.append("\(id): \(action) on Resource \"*\" although it accepts a narrower resource")
            }
        }
        return found
    }

    private func bucketStatement(_ s: JSON, in id: String) -> [String] {
        guard s["Effect"]?.string == "Allow" else { return [] }
        var found: [String] = []
        let principal = s["Principal"]
        if principal == nil || principal == .string("*") || list(principal?["AWS"]).contains(.string("*")) {
            found.append("\(id): bucket policy with a \"*\" principal")
        }
        let services = list(principal?["Service"]).compactMap(\.string)
        if services.contains("cloudfront.amazonaws.com") {
            let sourceArn = s["Condition"]?["StringEquals"]?["AWS:SourceArn"]
            if sourceArn == nil { found.append("\(id): CloudFront principal without an AWS:SourceArn condition") }
        } else if !services.isEmpty {
            found.append("\(id): unexpected service principal \(services)")
        }
        for action in list(s["Action"]).compactMap(\.string) where action != "s3:GetObject" {
            found.append("\(id): bucket policy allows \(action) (only reads by CloudFront are expected)")
        }
        return found
    }

    /// No output may carry a secret: no reference to a Secrets Manager secret,
    /// no dynamic reference, no parameter marked NoEcho.
    private func secretsInOutputs() -> [String] {
        let secretIds = Set(resources.filter { $0.value["Type"]?.string == "AWS::SecretsManager::Secret" }.keys)
        let noEcho = Set((template["Parameters"]?.object ?? [:]).filter { $0.value["NoEcho"] != nil }.keys)
        var found: [String] = []
        for (name, output) in template["Outputs"]?.object ?? [:] {
            let names = referencedNames(output["Value"] ?? .null)
            for n in names where secretIds.contains(n.split(separator: ".").first.map(String.init) ?? n) || noEcho.contains(n) {
                found.append("output \(name) references secret \(n)")
            }
            if output.rendered().contains("{{resolve:") { found.append("output \(name) has a dynamic reference") }
        }
        return found
    }

    /// Logical IDs named by Ref, GetAtt and Fn::Sub variables inside a value.
    func referencedNames(_ value: JSON) -> [String] {
        switch value {
        case .object(let o):
            var names: [String] = []
            if let r = o["Ref"]?.string { names.append(r) }
            if let g = o["Fn::GetAtt"]?.array?.first?.string { names.append(g) }
            if let sub = o["Fn::Sub"] {
                let text = sub.string ?? sub.array?.first?.string ?? ""
                var rest = Substring(text)
                while let start = rest.range(of: "${") {
                    rest = rest[start.upperBound...]
                    guard let end = rest.firstIndex(of: "}") else { break }
                    let name = String(rest[..<end])
                    if !name.hasPrefix("!") { names.append(String(name.split(separator: ".").first ?? "")) }
                    rest = rest[end...]
                }
            }
            for v in o.values { names += referencedNames(v) }
            return names
        case .array(let a): return a.flatMap(referencedNames)
        default: return []
        }
    }
}
