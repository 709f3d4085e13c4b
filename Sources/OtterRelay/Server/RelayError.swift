/// Errors from configuring or starting the relay, with a message an operator can act on.
public struct RelayError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unknownOption = "unknown-option"
        case unsupportedOption = "unsupported-option"
        case badValue = "bad-value"
        case badConfigFile = "bad-config-file"
        case noListeners = "no-listeners"
        case bindFailed = "bind-failed"
        case tls = "tls"
        case notRunning = "not-running"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
