import Foundation

/// A JSON value kept as the client's own validated text: passed through
/// signaling without being decoded (DESIGN: the server never parses SDP).
public struct RawJSON: Sendable, Equatable {
    public let text: String

    /// Only from validated bytes (`ClientMessage.parse`) or an encoded value.
    init(validated text: String) { self.text = text }

    public init(_ value: JSONValue) { self.text = value.compactText }

    /// Decoded, for tests and tools (not the relay path).
    public var value: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
}
