/// A JSON value with a deterministic writer.
///
/// The template must be byte-for-byte stable (same options → same bytes) so that
/// `otter deploy` can tell "no change" from a real change. Foundation's
/// JSONSerialization does not promise key order, and JSONEncoder turns integers
/// into whatever its number formatter likes; this writer sorts object keys,
/// prints integers as integers and escapes strings the same way on every
/// platform.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    /// Pretty-printed (two-space indent, sorted keys) with a trailing newline.
    public func rendered() -> String {
        var out = ""
        out.reserveCapacity(64 * 1024)
        write(into: &out, indent: 0)
        out.append("\n")
        return out
    }

    private func write(into out: inout String, indent: Int) {
        switch self {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i): out.append(String(i))
        case .string(let s): JSON.writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out.append("[]"); return }
            out.append("[\n")
            for (n, item) in items.enumerated() {
                JSON.pad(&out, indent + 2)
                item.write(into: &out, indent: indent + 2)
                out.append(n == items.count - 1 ? "\n" : ",\n")
            }
            JSON.pad(&out, indent)
            out.append("]")
        case .object(let fields):
            if fields.isEmpty { out.append("{}"); return }
            out.append("{\n")
            // Keys compared by their UTF-8 bytes: independent of locale and of
            // Unicode normalisation, so every machine sorts the same way.
            let keys = fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (n, key) in keys.enumerated() {
                JSON.pad(&out, indent + 2)
                JSON.writeString(key, into: &out)
                out.append(": ")
                fields[key]!.write(into: &out, indent: indent + 2)
                out.append(n == keys.count - 1 ? "\n" : ",\n")
            }
            JSON.pad(&out, indent)
            out.append("}")
        }
    }

    private static func pad(_ out: inout String, _ n: Int) {
        out.append(String(repeating: " ", count: n))
    }

    private static func writeString(_ s: String, into out: inout String) {
        out.append("\"")
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }

    // Accessors for tests and walkers.
    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var array: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var object: [String: JSON]? { if case .object(let o) = self { return o }; return nil }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// Anything that has a CloudFormation JSON form: literals, intrinsics and property structs.
public protocol JSONRepresentable: Sendable {
    var json: JSON { get }
}

extension JSON: JSONRepresentable { public var json: JSON { self } }
extension String: JSONRepresentable { public var json: JSON { .string(self) } }
extension Int: JSONRepresentable { public var json: JSON { .int(self) } }
extension Bool: JSONRepresentable { public var json: JSON { .bool(self) } }
extension Array: JSONRepresentable where Element: JSONRepresentable {
    public var json: JSON { .array(map(\.json)) }
}
extension Dictionary: JSONRepresentable where Key == String, Value: JSONRepresentable {
    public var json: JSON { .object(mapValues(\.json)) }
}

/// Builds a property object, leaving out the properties that are not set, so a
/// resource struct lists its CloudFormation names in one place.
public func props(_ pairs: KeyValuePairs<String, (any JSONRepresentable)?>) -> JSON {
    var fields: [String: JSON] = [:]
    for (key, value) in pairs {
        if let value { fields[key] = value.json }
    }
    return .object(fields)
}
