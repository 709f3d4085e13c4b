import Foundation
@testable import OtterAWS

/// A real moto server with SigV4 checking on: the first three requests (which
/// create an IAM user, its policy and access key) pass unchecked; from then on
/// moto recomputes every signature and refuses wrong ones.
final class MotoServer: @unchecked Sendable {
    let port: Int
    let process: TestProcess
    let credentials: AWSCredentials
    var endpoint: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        // Scripts/moto-server is moto's server plus the project's CloudFormation
        // models and a fix for moto's check of body-less signed requests (it
        // hashed the headers as the payload and refused every correct GET).
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Scripts/moto-server").path
        let process = try TestProcess("python3", [script, "--port", "0"],
                                      environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "3"])
        self.process = process
        guard let port = process.listeningPort() else {
            throw AWSError(.transport, message: "moto-server did not start; is moto[server] installed (Scripts/setup)?")
        }
        self.port = port
        // Any key signs the three unchecked bootstrap calls.
        let bootstrap = AWSClient(configuration: AWSConfiguration(
            credentials: AWSCredentials(accessKeyID: "AKIDBOOTSTRAP", secretAccessKey: "bootstrap"),
            region: "us-east-1", endpoint: "http://127.0.0.1:\(port)"))
        _ = try await bootstrap.query(.iam, action: "CreateUser", [("UserName", "otter-test")])
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        _ = try await bootstrap.query(.iam, action: "PutUserPolicy", [("UserName", "otter-test"), ("PolicyName", "all"), ("PolicyDocument", policy)])
        let key = try await bootstrap.query(.iam, action: "CreateAccessKey", [("UserName", "otter-test")])
        guard let id = key.string("AccessKey/AccessKeyId"), let secret = key.string("AccessKey/SecretAccessKey") else {
            throw AWSError(.decoding, message: "moto did not return an access key")
        }
        credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret)
    }

    func client(secret: String? = nil, region: String = "us-east-1") -> AWSClient {
        var creds = credentials
        if let secret { creds.secretAccessKey = secret }
        // moto's threaded dev server now and then leaves a request unanswered on a
        // loaded machine: a short timeout lets the standard retry take over.
        return AWSClient(configuration: AWSConfiguration(credentials: creds, region: region, endpoint: endpoint),
                         transport: CurlTransport(timeouts: .init(connect: .seconds(5), total: .seconds(20))),
                         retryPolicy: RetryPolicy(baseDelay: .milliseconds(10)))
    }

    deinit { process.stop() }
}
