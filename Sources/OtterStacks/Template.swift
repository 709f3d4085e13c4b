/// A CloudFormation resource type as a Swift value: its properties are typed
/// fields, so a misspelt property or a wrong type fails to compile.
public protocol Resource: Sendable {
    static var typeName: String { get }
    /// The `Properties` object (without `Tags`: the template adds the stack tag).
    var properties: JSON { get }
    /// How the type spells `Tags`; nil when it has none. A static requirement
    /// rather than an `as? any Taggable` cast: a protocol cast scans every
    /// conformance in the binary on first use, which showed in the start-up time.
    static var tagFormat: TagFormat? { get }
}

extension Resource {
    public static var tagFormat: TagFormat? { nil }
}

/// How a taggable type spells its `Tags` property: most take a list of
/// `{Key, Value}`, API Gateway v2 takes a plain map.
public enum TagFormat: Sendable { case list, map }

/// A resource type that has a `Tags` property; the template gives every one the
/// stack tag (`otter:stack=<name>`), so no resource can be forgotten.
public protocol Taggable: Resource {}
extension Taggable {
    public static var tagFormat: TagFormat? { .list }
}

/// Anything with a logical ID, for `DependsOn`.
public protocol LogicallyIdentified: Sendable {
    var logicalId: String { get }
}

/// A resource added to a template. Typed attribute accessors (`arn`, `apiEndpoint`…)
/// live in extensions constrained on the resource type.
public struct Handle<R: Resource>: LogicallyIdentified, Hashable {
    public let logicalId: String
    /// `Ref` (what it returns depends on the type: a name, an id or an ARN).
    public var ref: CFString { Fn.ref(logicalId) }
    func getAtt(_ attribute: String) -> CFString { Fn.getAtt(logicalId, attribute) }
}

public struct ParameterHandle: Sendable, Hashable {
    public let logicalId: String
    public var string: CFString { Fn.ref(logicalId) }
    public var int: CFInt { CFInt(json: ["Ref": .string(logicalId)], subName: logicalId) }
}

public struct Parameter: Sendable {
    public enum Kind: String, Sendable { case string = "String", number = "Number" }
    public var kind: Kind
    public var description: String
    public var defaultValue: JSON?
    public var allowedValues: [JSON]?
    public var allowedPattern: String?
    public var minValue: Int?
    public var maxValue: Int?
    public var minLength: Int?
    public var constraintDescription: String?

    public init(_ kind: Kind, description: String, default defaultValue: JSON? = nil, allowedValues: [JSON]? = nil,
                allowedPattern: String? = nil, minValue: Int? = nil, maxValue: Int? = nil, minLength: Int? = nil,
                constraintDescription: String? = nil) {
        self.kind = kind
        self.description = description
        self.defaultValue = defaultValue
        self.allowedValues = allowedValues
        self.allowedPattern = allowedPattern
        self.minValue = minValue
        self.maxValue = maxValue
        self.minLength = minLength
        self.constraintDescription = constraintDescription
    }

    var json: JSON {
        props([
            "Type": kind.rawValue, "Description": description, "Default": defaultValue,
            "AllowedValues": allowedValues.map { JSON.array($0) }, "AllowedPattern": allowedPattern,
            "MinValue": minValue, "MaxValue": maxValue, "MinLength": minLength,
            "ConstraintDescription": constraintDescription,
        ])
    }
}

public enum RemovalPolicy: String, Sendable { case delete = "Delete", retain = "Retain" }

/// A CloudFormation template: parameters, conditions, resources, outputs, metadata.
///
/// Logical IDs are chosen by the caller and checked here (alphanumeric, unique),
/// so they never depend on insertion order or on a counter: the same inputs give
/// the same IDs and the same bytes.
public struct Template: Sendable {
    struct Entry: Sendable {
        var type: String
        var properties: JSON
        var dependsOn: [String]
        var condition: String?
        var removal: RemovalPolicy?
    }
    struct Output: Sendable {
        var value: CFString
        var description: String
    }

    public var description: String
    public var metadata: [String: JSON] = [:]
    /// Tags given to every taggable resource.
    public let tags: [(key: String, value: String)]

    private(set) var parameters: [String: Parameter] = [:]
    private(set) var conditions: [String: ConditionExpression] = [:]
    private(set) var resources: [String: Entry] = [:]
    private(set) var outputs: [String: Output] = [:]

    public init(description: String, tags: [(key: String, value: String)]) {
        self.description = description
        self.tags = tags
    }

    private func checkNew(_ id: String) {
        precondition(Template.isAlphanumeric(id), "logical ID must be alphanumeric: \(id)")
        precondition(parameters[id] == nil && resources[id] == nil && conditions[id] == nil,
                     "duplicate logical ID \(id)")
    }

    static func isAlphanumeric(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }

    public mutating func parameter(_ id: String, _ parameter: Parameter) -> ParameterHandle {
        checkNew(id)
        parameters[id] = parameter
        return ParameterHandle(logicalId: id)
    }

    public mutating func condition(_ id: String, _ expression: ConditionExpression) -> ConditionName {
        checkNew(id)
        conditions[id] = expression
        return ConditionName(name: id)
    }

    @discardableResult
    public mutating func add<R: Resource>(_ id: String, _ resource: R, dependsOn: [any LogicallyIdentified] = [],
                                          condition: ConditionName? = nil, removal: RemovalPolicy? = nil) -> Handle<R> {
        checkNew(id)
        var properties = resource.properties
        if let format = R.tagFormat {
            properties = withTags(properties, format: format)
        }
        resources[id] = Entry(type: R.typeName, properties: properties,
                              dependsOn: dependsOn.map(\.logicalId), condition: condition?.name, removal: removal)
        return Handle(logicalId: id)
    }

    private func withTags(_ properties: JSON, format: TagFormat) -> JSON {
        guard case .object(var fields) = properties else { return properties }
        precondition(fields["Tags"] == nil, "resources must not set Tags themselves")
        switch format {
        case .list:
            fields["Tags"] = .array(tags.map { ["Key": .string($0.key), "Value": .string($0.value)] })
        case .map:
            fields["Tags"] = .object(Dictionary(tags.map { ($0.key, JSON.string($0.value)) }, uniquingKeysWith: { a, _ in a }))
        }
        return .object(fields)
    }

    public mutating func output(_ id: String, _ value: CFString, _ description: String) {
        precondition(outputs[id] == nil && Template.isAlphanumeric(id), "bad output \(id)")
        outputs[id] = Output(value: value, description: description)
    }

    public var json: JSON {
        var root: [String: JSON] = [
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": .string(description),
        ]
        if !metadata.isEmpty { root["Metadata"] = .object(metadata) }
        if !parameters.isEmpty { root["Parameters"] = .object(parameters.mapValues(\.json)) }
        if !conditions.isEmpty { root["Conditions"] = .object(conditions.mapValues(\.json)) }
        root["Resources"] = .object(resources.mapValues { entry in
            var fields: [String: JSON] = ["Type": .string(entry.type)]
            if case .object(let p) = entry.properties, !p.isEmpty { fields["Properties"] = entry.properties }
            if !entry.dependsOn.isEmpty { fields["DependsOn"] = .array(entry.dependsOn.sorted().map(JSON.string)) }
            if let c = entry.condition { fields["Condition"] = .string(c) }
            if let r = entry.removal {
                fields["DeletionPolicy"] = .string(r.rawValue)
                fields["UpdateReplacePolicy"] = .string(r.rawValue)
            }
            return .object(fields)
        })
        if !outputs.isEmpty {
            root["Outputs"] = .object(outputs.mapValues { ["Value": $0.value.json, "Description": .string($0.description)] })
        }
        return .object(root)
    }

    /// The template as deterministic, pretty-printed JSON.
    public func rendered() -> String { json.rendered() }
}
