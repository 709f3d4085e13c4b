/// IAM (a global service: Query protocol, signed for us-east-1 at iam.amazonaws.com).
/// Only what `otter deploy` needs: the service-linked roles a stack's services assume.
public struct IAM: Sendable {
    public enum ServiceLinkedRoleOutcome: Sendable, Equatable {
        case created(roleName: String)
        /// AWS answers InvalidInput "Service role name X has been taken in this account".
        case alreadyExists
    }

    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    /// `iam:CreateServiceLinkedRole` for a service principal such as `ecs.amazonaws.com`.
    /// A role that exists already is not an error: AWS refuses a second one with
    /// InvalidInput ("... has been taken in this account, please try a different suffix"),
    /// and other IAM implementations with EntityAlreadyExists.
    /// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html
    public func createServiceLinkedRole(awsServiceName: String, description: String? = nil) async throws -> ServiceLinkedRoleOutcome {
        var p: [(String, String)] = [("AWSServiceName", awsServiceName)]
        if let description { p.append(("Description", description)) }
        do {
            let r = try await client.query(.iam, action: "CreateServiceLinkedRole", p)
            return .created(roleName: r["Role"]?.string("RoleName") ?? "")
        } catch let e as AWSError where Self.isAlreadyExists(e) {
            return .alreadyExists
        }
    }

    static func isAlreadyExists(_ e: AWSError) -> Bool {
        switch e.serviceCode {
        case "InvalidInput": return e.message.contains("has been taken")
        case "EntityAlreadyExists": return true
        default: return false
        }
    }
}
