/// An access key pair, with the session token of temporary credentials.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Never prints the secret: credentials end up in logs by accident.
    public var description: String {
        "AWSCredentials(\(accessKeyID), secret: ****\(sessionToken == nil ? "" : ", with session token"))"
    }
}
