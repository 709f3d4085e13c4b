import Foundation
import Testing
@testable import OtterAWS

/// The AWS CLI's resolution order, with temporary files and environments.
/// A class, so each test's temporary home is removed when the test ends.
final class CredentialChainTests {
    let home: URL

    init() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("otter-aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".aws"), withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: home)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: home.appendingPathComponent(".aws/\(name)"), atomically: true, encoding: .utf8)
    }

    func env(_ vars: [String: String]) -> AWSEnvironment {
        AWSEnvironment(variables: vars, homeDirectory: home.path)
    }

    @Test func environmentVariablesComeFirst() throws {
        try write("credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n")
        let c = try AWSConfiguration.resolve(environment: env([
            "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "tok", "AWS_REGION": "eu-west-1",
        ]))
        #expect(c.credentials == AWSCredentials(accessKeyID: "ENVKEY", secretAccessKey: "envsecret", sessionToken: "tok"))
        #expect(c.credentialSource.contains("environment"))
        #expect(c.region == "eu-west-1")
    }

    @Test func profileFromCredentialsAndRegionFromConfig() throws {
        try write("credentials", "[default]\naws_access_key_id = D\naws_secret_access_key = d\n\n[dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = devsecret\n")
        try write("config", "[default]\nregion = us-east-1\n\n[profile dev]\nregion = ap-southeast-2\n")
        let c = try AWSConfiguration.resolve(environment: env(["AWS_PROFILE": "dev"]))
        #expect(c.credentials.accessKeyID == "DEVKEY")
        #expect(c.region == "ap-southeast-2")
        #expect(c.regionSource.contains("profile \"dev\""))
    }

    @Test func explicitProfileBeatsEnvironmentCredentials() throws {
        try write("credentials", "[ops]\naws_access_key_id = OPSKEY\naws_secret_access_key = ops\n")
        let c = try AWSConfiguration.resolve(profile: "ops", region: "us-west-2",
                                             environment: env(["AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "e"]))
        #expect(c.credentials.accessKeyID == "OPSKEY")
        #expect(c.region == "us-west-2")
    }

    @Test func credentialsInConfigFileAndCustomFileLocations() throws {
        let creds = home.appendingPathComponent("my-creds")
        let conf = home.appendingPathComponent("my-config")
        try "[x]\naws_access_key_id = CK\naws_secret_access_key = cs\n".write(to: creds, atomically: true, encoding: .utf8)
        try "[profile y]\naws_access_key_id = YK\naws_secret_access_key = ys\naws_session_token = yt\nregion = ca-central-1\n".write(to: conf, atomically: true, encoding: .utf8)
        let e = ["AWS_SHARED_CREDENTIALS_FILE": creds.path, "AWS_CONFIG_FILE": conf.path]
        #expect(try AWSConfiguration.resolve(profile: "x", region: "us-east-1", environment: env(e)).credentials.accessKeyID == "CK")
        let y = try AWSConfiguration.resolve(profile: "y", environment: env(e))
        #expect(y.credentials == AWSCredentials(accessKeyID: "YK", secretAccessKey: "ys", sessionToken: "yt"))
        #expect(y.region == "ca-central-1")
    }

    @Test func regionOrder() throws {
        try write("credentials", "[default]\naws_access_key_id = K\naws_secret_access_key = s\n")
        try write("config", "[default]\nregion = sa-east-1\n")
        #expect(try AWSConfiguration.resolve(environment: env([:])).region == "sa-east-1")
        #expect(try AWSConfiguration.resolve(environment: env(["AWS_DEFAULT_REGION": "eu-north-1"])).region == "eu-north-1")
        #expect(try AWSConfiguration.resolve(environment: env(["AWS_DEFAULT_REGION": "eu-north-1", "AWS_REGION": "me-south-1"])).region == "me-south-1")
        // Any region name works: no allow-list.
        #expect(try AWSConfiguration.resolve(region: "xx-future-9", environment: env([:])).region == "xx-future-9")
    }

    @Test func missingCredentialsExplainWhatToSet() throws {
        let e = #expect(throws: AWSError.self) { try AWSConfiguration.resolve(region: "us-east-1", environment: env([:])) }
        #expect(e?.code == .credentials)
        #expect(e?.message.contains("AWS_ACCESS_KEY_ID") == true)
        let p = #expect(throws: AWSError.self) { try AWSConfiguration.resolve(profile: "nope", region: "us-east-1", environment: env([:])) }
        #expect(p?.message.contains("\"nope\" was not found") == true)
        let half = #expect(throws: AWSError.self) { try AWSConfiguration.resolve(environment: env(["AWS_ACCESS_KEY_ID": "K"])) }
        #expect(half?.message.contains("AWS_SECRET_ACCESS_KEY is not") == true)
    }

    @Test func missingOrBadRegionIsExplained() throws {
        let e = #expect(throws: AWSError.self) {
            try AWSConfiguration.resolve(environment: env(["AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "s"]))
        }
        #expect(e?.code == .region)
        #expect(e?.message.contains("AWS_REGION") == true)
        #expect(throws: AWSError.self) { try AWSConfiguration.resolve(region: "us east 1", environment: env(["AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "s"])) }
    }

    @Test func endpointsFollowTheSDKConventions() throws {
        let base = ["AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-3"]
        let plain = try AWSConfiguration.resolve(environment: env(base))
        #expect(plain.endpoint(for: .cloudFormation).url.absoluteString == "https://cloudformation.eu-west-3.amazonaws.com")
        #expect(plain.endpoint(for: .cloudFront).url.absoluteString == "https://cloudfront.amazonaws.com")
        #expect(try AWSConfiguration.resolve(region: "cn-north-1", environment: env(base)).endpoint(for: .sts).url.absoluteString
                == "https://sts.cn-north-1.amazonaws.com.cn")

        var e = base
        e["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5000"
        e["AWS_ENDPOINT_URL_CLOUDFORMATION"] = "http://127.0.0.1:6000"
        let o = try AWSConfiguration.resolve(environment: env(e))
        #expect(o.endpoint(for: .cloudFormation).url.absoluteString == "http://127.0.0.1:6000")
        #expect(o.endpoint(for: .cloudFormation).source == "AWS_ENDPOINT_URL_CLOUDFORMATION")
        #expect(o.endpoint(for: .s3).url.absoluteString == "http://127.0.0.1:5000")
        #expect(o.hasEndpointOverride(for: .s3))

        e["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        #expect(try AWSConfiguration.resolve(environment: env(e)).endpoint(for: .s3).url.absoluteString == "https://s3.eu-west-3.amazonaws.com")

        try write("config", "[profile local]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:7000\n")
        try write("credentials", "[local]\naws_access_key_id = LK\naws_secret_access_key = ls\n")
        let p = try AWSConfiguration.resolve(profile: "local", environment: env([:]))
        #expect(p.endpoint(for: .sts).url.absoluteString == "http://127.0.0.1:7000")
    }

    @Test func credentialsNeverPrintTheSecret() {
        let c = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "supersecret", sessionToken: "tok")
        #expect(!"\(c)".contains("supersecret"))
        #expect(!"\(c)".contains("tok,"))
    }
}
