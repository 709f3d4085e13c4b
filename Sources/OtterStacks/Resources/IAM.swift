/// Who a policy statement applies to.
public enum Principal: JSONRepresentable, Hashable {
    /// An AWS service such as `lambda.amazonaws.com`.
    case service(String)

    public var json: JSON {
        switch self {
        case .service(let name): return ["Service": .string(name)]
        }
    }
}

/// One IAM statement. `actions` are service actions (`dynamodb:GetItem`);
/// a statement always names its resources, so "everything" has to be written
/// out as `"*"` and is easy to find (the template walker test does).
public struct PolicyStatement: JSONRepresentable, Hashable {
    public var sid: String?
    public var effect: String
    public var principal: Principal?
    public var actions: [String]
    public var resources: [CFString]
    public var condition: JSON?

    public init(sid: String? = nil, allow actions: [String], on resources: [CFString] = [], principal: Principal? = nil,
                condition: JSON? = nil) {
        self.sid = sid
        self.effect = "Allow"
        self.actions = actions
        self.resources = resources
        self.principal = principal
        self.condition = condition
    }

    public var json: JSON {
        props([
            "Sid": sid, "Effect": effect, "Principal": principal,
            "Action": actions.count == 1 ? JSON.string(actions[0]) : actions.json,
            "Resource": resources.isEmpty ? nil : (resources.count == 1 ? resources[0].json : resources.json),
            "Condition": condition,
        ])
    }
}

public struct PolicyDocument: JSONRepresentable, Hashable {
    public var statements: [PolicyStatement]
    public init(_ statements: [PolicyStatement]) { self.statements = statements }
    public var json: JSON { ["Version": "2012-10-17", "Statement": statements.json] }
}

/// An IAM role assumed by one AWS service, with inline policies only (managed
/// policies such as AWSLambdaBasicExecutionRole grant `Resource: *`).
public struct IAMRole: Taggable {
    public static let typeName = "AWS::IAM::Role"
    public var description: String
    public var assumedBy: String
    /// Extra conditions on the trust policy (e.g. `aws:SourceAccount`).
    public var trustCondition: JSON?
    public var policies: [(name: String, document: PolicyDocument)]

    public init(description: String, assumedBy: String, trustCondition: JSON? = nil,
                policies: [(name: String, document: PolicyDocument)]) {
        self.description = description
        self.assumedBy = assumedBy
        self.trustCondition = trustCondition
        self.policies = policies
    }

    public var properties: JSON {
        let trust = PolicyDocument([PolicyStatement(allow: ["sts:AssumeRole"], principal: .service(assumedBy),
                                                    condition: trustCondition)])
        return props([
            "Description": description,
            "AssumeRolePolicyDocument": trust,
            "Policies": policies.isEmpty ? nil : JSON.array(policies.map {
                ["PolicyName": .string($0.name), "PolicyDocument": $0.document.json]
            }),
        ])
    }
}

extension Handle where R == IAMRole {
    public var arn: CFString { getAtt("Arn") }
}
