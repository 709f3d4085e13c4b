/// The one error type of Otter's domain rules: a code a program can switch on,
/// and a message a person can act on.
public struct OtterError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable {
        case badRequest = "bad-request"
        case unauthorized = "unauthorized"
        case forbidden = "forbidden"
        case notFound = "not-found"
        case tokenExpired = "token-expired"
        case badToken = "bad-token"
        case roomFull = "room-full"
        case badMessage = "bad-message"
        case unknownPeer = "unknown-peer"
        case tooLarge = "too-large"
        case rateLimited = "rate-limited"
        case `internal` = "internal"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
