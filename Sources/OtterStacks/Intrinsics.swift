/// A value that CloudFormation resolves to a string: a literal, or an intrinsic
/// function (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::If`).
///
/// String interpolation builds `Fn::Sub`: `"arn:\(Pseudo.partition):s3:::\(bucket.ref)/*"`
/// becomes `{"Fn::Sub": "arn:${AWS::Partition}:s3:::${SiteBucket}/*"}`, so ARNs are
/// written as ARNs and every reference is a typed handle, never a hand-typed name.
public struct CFString: JSONRepresentable, Hashable, ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
    public let json: JSON
    /// How this value is written inside a `Fn::Sub` string when it can be named
    /// directly (`Ref` → `${Id}`, `GetAtt` → `${Id.Attr}`); other intrinsics
    /// become `Fn::Sub` variables.
    let subName: String?

    init(json: JSON, subName: String? = nil) {
        self.json = json
        self.subName = subName
    }

    public init(stringLiteral value: String) { self.init(json: .string(value)) }

    public init(stringInterpolation: StringInterpolation) {
        if !stringInterpolation.hasIntrinsic {
            self.init(json: .string(stringInterpolation.literal))
        } else if stringInterpolation.variables.isEmpty {
            self.init(json: ["Fn::Sub": .string(stringInterpolation.template)])
        } else {
            let vars = Dictionary(stringInterpolation.variables, uniquingKeysWith: { first, _ in first })
            self.init(json: ["Fn::Sub": [.string(stringInterpolation.template), .object(vars)]])
        }
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var template = ""
        var literal = ""
        var variables: [(String, JSON)] = []
        var hasIntrinsic = false

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ text: String) {
            literal += text
            // In Fn::Sub, a literal "${" must be written "${!".
            template += text.replacingAll("${", with: "${!")
        }

        public mutating func appendInterpolation(_ value: CFString) {
            if case .string(let text) = value.json {
                appendLiteral(text)
                return
            }
            hasIntrinsic = true
            if case .object(let fields) = value.json, fields.count == 1, case .string(let inner)? = fields["Fn::Sub"] {
                // A nested Fn::Sub without variables: splice its (already escaped) text in.
                template += inner
            } else if let name = value.subName {
                template += "${\(name)}"
            } else {
                let name = "v\(variables.count)"
                variables.append((name, value.json))
                template += "${\(name)}"
            }
        }

        public mutating func appendInterpolation(_ value: Int) { appendLiteral(String(value)) }
        public mutating func appendInterpolation(_ value: String) { appendLiteral(value) }
        public mutating func appendInterpolation(_ value: CFInt) {
            if case .int(let i) = value.json { appendLiteral(String(i)) } else { appendInterpolation(CFString(json: value.json, subName: value.subName)) }
        }
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        // Fast path: almost no literal contains the target's first byte ("$").
        guard let first = target.utf8.first, utf8.contains(first), contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// An integer property: a literal or a `Ref` to a Number parameter.
public struct CFInt: JSONRepresentable, Hashable, ExpressibleByIntegerLiteral {
    public let json: JSON
    let subName: String?
    init(json: JSON, subName: String? = nil) { self.json = json; self.subName = subName }
    public init(integerLiteral value: Int) { self.init(json: .int(value)) }
}

/// A list-valued intrinsic (`Fn::GetAZs`) or a literal list of strings.
public struct CFList: JSONRepresentable, Hashable {
    public let json: JSON
    public init(_ items: [CFString]) { json = .array(items.map(\.json)) }
    init(json: JSON) { self.json = json }
}

/// The name of a template condition, returned by `Template.condition(_:_:)`, so
/// `Fn::If` and `Condition:` can only name conditions that exist.
public struct ConditionName: Sendable, Hashable {
    public let name: String
}

/// A condition expression (`Fn::Equals`, `Fn::Not`, …).
public struct ConditionExpression: JSONRepresentable, Hashable {
    public let json: JSON
}

/// CloudFormation's intrinsic functions.
public enum Fn {
    public static func ref(_ logicalId: String) -> CFString {
        CFString(json: ["Ref": .string(logicalId)], subName: logicalId)
    }
    public static func getAtt(_ logicalId: String, _ attribute: String) -> CFString {
        CFString(json: ["Fn::GetAtt": [.string(logicalId), .string(attribute)]], subName: "\(logicalId).\(attribute)")
    }
    public static func join(_ separator: String, _ parts: [CFString]) -> CFString {
        CFString(json: ["Fn::Join": [.string(separator), .array(parts.map(\.json))]])
    }
    public static func select(_ index: Int, _ list: CFList) -> CFString {
        CFString(json: ["Fn::Select": [.int(index), list.json]])
    }
    /// The availability zones of `region` (empty: the stack's region).
    public static func getAZs(_ region: CFString = "") -> CFList {
        CFList(json: ["Fn::GetAZs": region.json])
    }
    public static func `if`(_ condition: ConditionName, _ then: CFString, _ otherwise: CFString) -> CFString {
        CFString(json: ["Fn::If": [.string(condition.name), then.json, otherwise.json]])
    }
    public static func `if`(_ condition: ConditionName, _ then: CFInt, _ otherwise: CFInt) -> CFInt {
        CFInt(json: ["Fn::If": [.string(condition.name), then.json, otherwise.json]])
    }
    public static func equals(_ a: CFString, _ b: CFString) -> ConditionExpression {
        ConditionExpression(json: ["Fn::Equals": [a.json, b.json]])
    }
    public static func equals(_ a: CFInt, _ b: CFInt) -> ConditionExpression {
        ConditionExpression(json: ["Fn::Equals": [a.json, b.json]])
    }
    public static func not(_ c: ConditionExpression) -> ConditionExpression {
        ConditionExpression(json: ["Fn::Not": [c.json]])
    }
    /// Raw `Fn::Sub` for the rare template that interpolation cannot express.
    public static func sub(_ template: String, _ variables: [String: CFString] = [:]) -> CFString {
        if variables.isEmpty { return CFString(json: ["Fn::Sub": .string(template)]) }
        return CFString(json: ["Fn::Sub": [.string(template), .object(variables.mapValues(\.json))]])
    }
}

/// Pseudo parameters.
public enum Pseudo {
    public static let region = Fn.ref("AWS::Region")
    public static let accountId = Fn.ref("AWS::AccountId")
    public static let stackName = Fn.ref("AWS::StackName")
    public static let urlSuffix = Fn.ref("AWS::URLSuffix")
    public static let partition = Fn.ref("AWS::Partition")
    /// Removes a property when used in `Fn::If`.
    public static let noValue = Fn.ref("AWS::NoValue")
}
