import OtterAWS

/// The service-linked roles the stack's services assume. AWS creates them on
/// first use, but not always in time: the first ECS service of an account can
/// fail with "Unable to assume the service linked role" while AWSServiceRoleForECS
/// is being created. Created (or found) before the change set, they are there.
public enum ServiceLinkedRoles {
    public struct Role: Sendable, Equatable {
        /// Shown in the deploy output.
        public var label: String
        /// The service principal given to CreateServiceLinkedRole.
        public var awsServiceName: String
        /// The role AWS creates for it.
        public var roleName: String
    }

    /// Service principals and role names as AWS documents them:
    /// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
    /// https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html
    /// https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-ecs.html
    public static let required: [Role] = [
        Role(label: "ECS", awsServiceName: "ecs.amazonaws.com", roleName: "AWSServiceRoleForECS"),
        Role(label: "Elastic Load Balancing", awsServiceName: "elasticloadbalancing.amazonaws.com",
             roleName: "AWSServiceRoleForElasticLoadBalancing"),
        Role(label: "Application Auto Scaling", awsServiceName: "ecs.application-autoscaling.amazonaws.com",
             roleName: "AWSServiceRoleForApplicationAutoScaling_ECSService"),
    ]

    /// Creates the roles that do not exist yet and prints one line. A caller
    /// without iam:CreateServiceLinkedRole gets a warning, not a failure: the
    /// roles usually exist already, and the stack then deploys as before.
    @discardableResult
    public static func ensure(iam: IAM, console: Console, roles: [Role] = required) async throws -> (created: [Role], existing: [Role]) {
        var created: [Role] = []
        var existing: [Role] = []
        var refused: [(Role, AWSError)] = []
        for role in roles {
            do {
                switch try await iam.createServiceLinkedRole(awsServiceName: role.awsServiceName) {
                case .created: created.append(role)
                case .alreadyExists: existing.append(role)
                }
            } catch let e as AWSError where e.code == .service && !e.isAuthenticationFailure
                        && (e.serviceCode == "AccessDenied" || e.statusCode == 403) {
                refused.append((role, e))
            }
        }
        let ready = created + existing
        if !ready.isEmpty {
            let labels = roles.filter { r in ready.contains(r) }.map(\.label).joined(separator: ", ")
            let detail = created.isEmpty ? "already there" : "created: \(created.map(\.label).joined(separator: ", "))"
            console.say("Service-linked roles: \(labels) ready (\(detail))")
        }
        for (role, e) in refused {
            console.say("""
                Service-linked role \(role.roleName): could not create it (\(e)). If this account has never used \(role.label), \
                the stack may fail with "Unable to assume the service linked role"; an administrator can create it with \
                `aws iam create-service-linked-role --aws-service-name \(role.awsServiceName)`.
                """)
        }
        return (created, existing)
    }
}
