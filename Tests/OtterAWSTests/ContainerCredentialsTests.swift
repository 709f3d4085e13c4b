import Foundation
import Testing
@testable import OtterAWS

@Suite struct ContainerCredentialsTests {
    func env(_ vars: [String: String]) -> AWSEnvironment { AWSEnvironment(variables: vars, homeDirectory: "/nonexistent") }

    @Test func relativeURIGoesToTheECSAgent() throws {
        let (url, auth) = try ContainerCredentials.endpoint(env(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"]))
        #expect(url.absoluteString == "http://169.254.170.2/v2/credentials/abc")
        #expect(auth == nil)
    }

    @Test func fullURIOverPlainHTTPOnlyWhenLocal() throws {
        let ok = try ContainerCredentials.endpoint(env(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9000/creds",
                                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "t"]))
        #expect(ok.authorization == "t")
        _ = try ContainerCredentials.endpoint(env(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example/x"]))
        #expect(throws: AWSError.self) {
            try ContainerCredentials.endpoint(env(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://creds.example/x"]))
        }
    }

    @Test func answerWithoutKeysIsRefused() throws {
        let good = try ContainerCredentials.parse(Array(#"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"T"}"#.utf8))
        #expect(good == AWSCredentials(accessKeyID: "A", secretAccessKey: "S", sessionToken: "T"))
        #expect(throws: AWSError.self) { try ContainerCredentials.parse(Array(#"{"Code":"Failed"}"#.utf8)) }
        #expect(throws: AWSError.self) { try ContainerCredentials.parse(Array("not json".utf8)) }
    }

    @Test func environmentKeysStillWinOverTheContainer() async throws {
        let config = try await AWSConfiguration.resolveIncludingContainer(environment: env([
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-1",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/never-called",
        ]))
        #expect(config.credentials.accessKeyID == "AKIDENV")
    }
}
