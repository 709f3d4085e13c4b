/// AWS Security Token Service: who am I?
public struct STS: Sendable {
    public struct CallerIdentity: Sendable, Equatable {
        public var account: String
        public var arn: String
        public var userID: String
    }

    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    public func getCallerIdentity() async throws -> CallerIdentity {
        let r = try await client.query(.sts, action: "GetCallerIdentity")
        guard let account = r.string("Account"), let arn = r.string("Arn") else {
            throw AWSError(.decoding, service: "STS", message: "GetCallerIdentity answered without Account/Arn")
        }
        return CallerIdentity(account: account, arn: arn, userID: r.string("UserId") ?? "")
    }
}
