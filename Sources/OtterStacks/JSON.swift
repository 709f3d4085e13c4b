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
        String(decoding: renderedBytes(), as: UTF8.self)
    }

    /// The same text as UTF-8 bytes. Written straight into a byte buffer: this is
    /// most of `otter template`'s work, and appending bytes is several times
    /// faster than appending to a String.
    public func renderedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 * 1024)
        write(into: &out, indent: 0)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    private func write(into out: inout [UInt8], indent: Int) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .string(let s): JSON.writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(contentsOf: "[\n".utf8)
            for (n, item) in items.enumerated() {
                JSON.pad(&out, indent + 2)
                item.write(into: &out, indent: indent + 2)
                if n != items.count - 1 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\n"))
            }
            JSON.pad(&out, indent)
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            if fields.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(contentsOf: "{\n".utf8)
            // Keys compared by their UTF-8 bytes: independent of locale and of
            // Unicode normalisation, so every machine sorts the same way.
            let keys = fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (n, key) in keys.enumerated() {
                JSON.pad(&out, indent + 2)
                JSON.writeString(key, into: &out)
                out.append(contentsOf: ": ".utf8)
                fields[key]!.write(into: &out, indent: indent + 2)
                if n != keys.count - 1 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\n"))
            }
            JSON.pad(&out, indent)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func pad(_ out: inout [UInt8], _ n: Int) {
        for _ in 0..<n { out.append(UInt8(ascii: " ")) }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\n"): out.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"): out.append(contentsOf: "\\r".utf8)
            case UInt8(ascii: "\t"): out.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            default: out.append(byte)  // UTF-8 passes through unchanged
            }
        }
        out.append(UInt8(ascii: "\""))
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
