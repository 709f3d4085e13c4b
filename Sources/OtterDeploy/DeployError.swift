/// A deploy or destroy failure, with a message that says what to do next.
public struct DeployError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case missingFiles
        case credentials
        case stackBusy
        case stackFailed
        case changeSetFailed
        case notConfirmed
        case notFound
        case bucketTaken
        case interrupted
        case aws
        case relayImage
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
