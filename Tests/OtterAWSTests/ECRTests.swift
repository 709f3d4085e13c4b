import Foundation
import Synchronization
import Testing
@testable import OtterAWS

/// Keeps the requests a client sends and answers each with a canned body: for checking the
/// wire shape of a call alone. What the calls do is checked against moto below.
final class RecordingTransport: HTTPTransport {
    let requests = Mutex<[HTTPRequest]>([])
    let answer: @Sendable (HTTPRequest) -> HTTPResponse

    init(answer: @escaping @Sendable (HTTPRequest) -> HTTPResponse) { self.answer = answer }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        requests.withLock { $0.append(request) }
        return answer(request)
    }

    var last: HTTPRequest? { requests.withLock { $0.last } }
}

@Suite struct ECRRequestShapeTests {
    static func client(_ transport: RecordingTransport, region: String = "eu-west-1") -> AWSClient {
        AWSClient(configuration: AWSConfiguration(credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret"),
                                                  region: region),
                  transport: transport)
    }

    static func header(_ r: HTTPRequest, _ name: String) -> String? {
        r.headers.last { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    static let repositoryJSON = #"{"repository":{"repositoryName":"otter/s/relay","repositoryArn":"arn:aws:ecr:eu-west-1:123456789012:repository/otter/s/relay","repositoryUri":"123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter/s/relay","imageTagMutability":"IMMUTABLE","imageScanningConfiguration":{"scanOnPush":true}}}"#

    @Test func createRepositoryIsAJSON11CallToTheRegionalAPIEndpointWithTagsAndSettings() async throws {
        let transport = RecordingTransport { _ in HTTPResponse(status: 200, headers: [], body: Array(Self.repositoryJSON.utf8)) }
        let repo = try await ECR(client: Self.client(transport)).createRepository(name: "otter/s/relay", tags: ["otter:stack": "s", "otter:role": "relay-image"])
        let r = try #require(transport.last)
        #expect(r.method == "POST")
        #expect(r.url.absoluteString == "https://api.ecr.eu-west-1.amazonaws.com/")
        #expect(Self.header(r, "X-Amz-Target") == "AmazonEC2ContainerRegistry_V20150921.CreateRepository")
        #expect(Self.header(r, "Content-Type") == "application/x-amz-json-1.1")
        #expect(Self.header(r, "Authorization")?.contains("/eu-west-1/ecr/aws4_request") == true)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        #expect(body["repositoryName"] as? String == "otter/s/relay")
        #expect(body["imageTagMutability"] as? String == "IMMUTABLE")
        #expect((body["imageScanningConfiguration"] as? [String: Any])?["scanOnPush"] as? Bool == true)
        let tags = try #require(body["tags"] as? [[String: String]])
        #expect(tags == [["Key": "otter:role", "Value": "relay-image"], ["Key": "otter:stack", "Value": "s"]])
        #expect(repo.uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter/s/relay")
        #expect(repo.tagMutability == "IMMUTABLE" && repo.scanOnPush == true)
    }

    @Test func chinaRegionsUseTheAmazonawsComCnEndpoint() async throws {
        let transport = RecordingTransport { _ in HTTPResponse(status: 200, headers: [], body: Array(#"{"repositories":[]}"#.utf8)) }
        _ = try await ECR(client: Self.client(transport, region: "cn-north-1")).describeRepository(name: "x1")
        #expect(transport.last?.url.host == "api.ecr.cn-north-1.amazonaws.com.cn")
    }

    @Test func describeAndDeleteTreatRepositoryNotFoundAsAbsent() async throws {
        let transport = RecordingTransport { _ in
            HTTPResponse(status: 400, headers: [], body: Array(#"{"__type":"RepositoryNotFoundException","message":"The repository with name 'x1' does not exist"}"#.utf8))
        }
        let ecr = ECR(client: Self.client(transport))
        #expect(try await ecr.describeRepository(name: "x1") == nil)
        #expect(try await ecr.deleteRepository(name: "x1") == false)
        let r = try #require(transport.last)
        #expect(Self.header(r, "X-Amz-Target") == "AmazonEC2ContainerRegistry_V20150921.DeleteRepository")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        #expect(body["force"] as? Bool == true && body["repositoryName"] as? String == "x1")
    }

    @Test func otherErrorsAreNotMistakenForAbsence() async throws {
        let transport = RecordingTransport { _ in
            HTTPResponse(status: 400, headers: [], body: Array(#"{"__type":"AccessDeniedException","message":"not allowed"}"#.utf8))
        }
        let e = await #expect(throws: AWSError.self) { try await ECR(client: Self.client(transport)).describeRepository(name: "x1") }
        #expect(e?.serviceCode == "AccessDeniedException")
    }

    @Test func authorizationTokenReadsTokenEndpointAndExpiry() async throws {
        let token = Data("AWS:password-of-12-hours".utf8).base64EncodedString()
        let transport = RecordingTransport { _ in
            HTTPResponse(status: 200, headers: [], body: Array(#"{"authorizationData":[{"authorizationToken":"\#(token)","expiresAt":1.7650548E9,"proxyEndpoint":"https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"}]}"#.utf8))
        }
        let auth = try await ECR(client: Self.client(transport)).authorizationToken()
        #expect(auth.token == token && auth.user == "AWS")
        #expect(auth.proxyEndpoint == "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com")
        #expect(auth.expiresAt == Date(timeIntervalSince1970: 1_765_054_800))
        let r = try #require(transport.last)
        #expect(Self.header(r, "X-Amz-Target") == "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken")
        #expect(String(decoding: r.body, as: UTF8.self) == "{}")  // registryIds is deprecated: the caller's registry
    }
}

/// ECR against a real moto server that checks signatures.
@Suite(.serialized)
struct ECRMotoTests {
    @Test func repositoryLifecycleAndToken() async throws {
        let moto = try await MotoServer()
        let ecr = ECR(client: moto.client(region: "eu-west-1"))
        #expect(try await ecr.describeRepository(name: "otter/t1/relay") == nil)
        let created = try await ecr.createRepository(name: "otter/t1/relay", tags: ["otter:stack": "t1"])
        #expect(created.name == "otter/t1/relay")
        #expect(created.arn == "arn:aws:ecr:eu-west-1:123456789012:repository/otter/t1/relay")
        #expect(created.uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter/t1/relay")
        let described = try #require(try await ecr.describeRepository(name: "otter/t1/relay"))
        #expect(described.arn == created.arn)
        #expect(described.tagMutability == "IMMUTABLE")
        #expect(try await ecr.tags(repositoryARN: created.arn) == ["otter:stack": "t1"])

        let again = await #expect(throws: AWSError.self) { try await ecr.createRepository(name: "otter/t1/relay", tags: [:]) }
        #expect(again?.serviceCode == "RepositoryAlreadyExistsException")

        let auth = try await ecr.authorizationToken()
        #expect(auth.user == "AWS")
        #expect(auth.proxyEndpoint == "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com")

        #expect(try await ecr.deleteRepository(name: "otter/t1/relay"))
        #expect(try await ecr.describeRepository(name: "otter/t1/relay") == nil)
        #expect(try await ecr.deleteRepository(name: "otter/t1/relay") == false)

        let e = await #expect(throws: AWSError.self) {
            try await ECR(client: moto.client(secret: "wrong", region: "eu-west-1")).describeRepository(name: "otter/t1/relay")
        }
        #expect(e?.isAuthenticationFailure == true, "\(String(describing: e))")
    }
}

/// AWS rules about ECR that moto does not enforce, checked on what Otter sends and reads.
@Suite struct ECRAWSRuleTests {
    /// "The Amazon ECR registry URL format is https://aws_account_id.dkr.ecr.region.amazonaws.com";
    /// the token decodes to user:password. moto builds the endpoint the same way (checked here),
    /// but answers expiresAt with a fixed date in 2015.
    /// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_AuthorizationData.html
    @Test func authorizationDataProxyEndpointIsTheAccountsRegistryHost() async throws {
        let moto = try await MotoServer()
        let auth = try await ECR(client: moto.client(region: "eu-central-1")).authorizationToken()
        let url = try #require(URL(string: auth.proxyEndpoint))
        #expect(url.scheme == "https")
        #expect(url.host == "123456789012.dkr.ecr.eu-central-1.amazonaws.com")
        let decoded = String(decoding: Data(base64Encoded: auth.token) ?? Data(), as: UTF8.self)
        #expect(decoded.hasPrefix("AWS:") && decoded.count > 4)
    }

    /// "Authorization tokens are valid for 12 hours", and expiresAt is a JSON timestamp (epoch
    /// seconds with a fraction). Otter asks for a token right before each push and keeps none,
    /// so the 12 hours are never crossed; what it reads must be the moment AWS gives.
    /// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html
    @Test func authorizationTokensAreValidFor12Hours() async throws {
        let issued = Date(timeIntervalSince1970: 1_765_000_000.25)
        let twelveHours = issued.addingTimeInterval(12 * 3600)
        let transport = RecordingTransport { _ in
            HTTPResponse(status: 200, headers: [], body: Array(#"{"authorizationData":[{"authorizationToken":"QVdTOnB3","expiresAt":\#(twelveHours.timeIntervalSince1970),"proxyEndpoint":"https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}]}"#.utf8))
        }
        let auth = try await ECR(client: ECRRequestShapeTests.client(transport, region: "us-east-1")).authorizationToken()
        let expires = try #require(auth.expiresAt)
        #expect(abs(expires.timeIntervalSince(issued) - 12 * 3600) < 0.001)
        #expect(auth.user == "AWS")
    }
}
