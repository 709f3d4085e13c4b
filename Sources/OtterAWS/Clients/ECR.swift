import Foundation

/// ECR's control plane (AWS JSON 1.1, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.*`):
/// the repository `otter deploy` pushes the relay image to, and the token the registry
/// API (`<account>.dkr.ecr.<region>.amazonaws.com`) accepts as HTTP Basic credentials.
public struct ECR: Sendable {
    public struct Repository: Sendable, Equatable {
        public var name: String
        public var arn: String
        /// `<account>.dkr.ecr.<region>.amazonaws.com/<name>`: what a task definition's image names.
        public var uri: String
        public var tagMutability: String?
        public var scanOnPush: Bool?
    }

    /// GetAuthorizationToken's answer for the caller's registry.
    public struct Authorization: Sendable, Equatable {
        /// base64("AWS:<password>"): sent as `Authorization: Basic <token>`.
        public var token: String
        /// `https://<account>.dkr.ecr.<region>.amazonaws.com`
        public var proxyEndpoint: String
        public var expiresAt: Date?

        /// The user name inside the token (`AWS` on ECR), nil if the token is not base64 `user:password`.
        public var user: String? {
            guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
                  let colon = text.firstIndex(of: ":") else { return nil }
            return String(text[..<colon])
        }
    }

    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    static let notFound = "RepositoryNotFoundException"

    /// `ecr:CreateRepository`. Tags go on at creation, so a repository never exists untagged
    /// (`otter destroy` deletes only repositories tagged with its stack).
    /// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
    public func createRepository(name: String, tags: [String: String], immutableTags: Bool = true,
                                 scanOnPush: Bool = true) async throws -> Repository {
        let r = try await client.json(.ecr, action: "CreateRepository", Self.createInput(name: name, tags: tags,
                                                                                    immutableTags: immutableTags, scanOnPush: scanOnPush))
        return try Self.repository(r["repository"], action: "CreateRepository")
    }

    static func createInput(name: String, tags: [String: String], immutableTags: Bool, scanOnPush: Bool) -> [String: Any] {
        [
            "repositoryName": name,
            "tags": tags.sorted { $0.key < $1.key }.map { ["Key": $0.key, "Value": $0.value] },
            "imageTagMutability": immutableTags ? "IMMUTABLE" : "MUTABLE",
            "imageScanningConfiguration": ["scanOnPush": scanOnPush],
            "encryptionConfiguration": ["encryptionType": "AES256"],
        ]
    }

    /// The repository, or nil when there is none by that name.
    /// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeRepositories.html
    public func describeRepository(name: String) async throws -> Repository? {
        do {
            let r = try await client.json(.ecr, action: "DescribeRepositories", ["repositoryNames": [name]])
            guard let first = (r["repositories"] as? [Any])?.first else { return nil }
            return try Self.repository(first, action: "DescribeRepositories")
        } catch let e as AWSError where e.serviceCode == Self.notFound {
            return nil
        }
    }

    /// Deletes the repository with every image in it (`force`). False when it did not exist.
    /// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteRepository.html
    @discardableResult
    public func deleteRepository(name: String, force: Bool = true) async throws -> Bool {
        do {
            _ = try await client.json(.ecr, action: "DeleteRepository", ["repositoryName": name, "force": force])
            return true
        } catch let e as AWSError where e.serviceCode == Self.notFound {
            return false
        }
    }

    /// The repository's tags (`ecr:ListTagsForResource` on its ARN).
    /// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListTagsForResource.html
    public func tags(repositoryARN: String) async throws -> [String: String] {
        let r = try await client.json(.ecr, action: "ListTagsForResource", ["resourceArn": repositoryARN])
        var out: [String: String] = [:]
        for t in r["tags"] as? [[String: Any]] ?? [] {
            if let k = t["Key"] as? String { out[k] = t["Value"] as? String ?? "" }
        }
        return out
    }

    /// A token for the caller's own registry (no registryIds: that parameter is deprecated).
    /// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html
    public func authorizationToken() async throws -> Authorization {
        let r = try await client.json(.ecr, action: "GetAuthorizationToken", [:])
        guard let data = (r["authorizationData"] as? [[String: Any]])?.first,
              let token = data["authorizationToken"] as? String, let endpoint = data["proxyEndpoint"] as? String else {
            throw AWSError(.decoding, service: "ECR", message: "GetAuthorizationToken answered without a token and proxy endpoint")
        }
        // A JSON timestamp: epoch seconds (with a fraction) as a number.
        let seconds = (data["expiresAt"] as? Double) ?? (data["expiresAt"] as? Int).map(Double.init)
        let expires = seconds.map { Date(timeIntervalSince1970: $0) }
        return Authorization(token: token, proxyEndpoint: endpoint, expiresAt: expires)
    }

    static func repository(_ any: Any?, action: String) throws -> Repository {
        guard let r = any as? [String: Any], let name = r["repositoryName"] as? String, let arn = r["repositoryArn"] as? String,
              let uri = r["repositoryUri"] as? String else {
            throw AWSError(.decoding, service: "ECR", message: "\(action) answered without repositoryName, repositoryArn and repositoryUri")
        }
        return Repository(name: name, arn: arn, uri: uri, tagMutability: r["imageTagMutability"] as? String,
                          scanOnPush: (r["imageScanningConfiguration"] as? [String: Any])?["scanOnPush"] as? Bool)
    }
}
