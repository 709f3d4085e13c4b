import ArgumentParser
import Foundation
import OtterAWS

/// `otter doctor`: proves the AWS setup works before a deploy depends on it.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check AWS credentials, region and endpoint by calling STS GetCallerIdentity."
    )

    @OptionGroup var aws: AWSOptions

    func run() async throws {
        let config: AWSConfiguration
        do {
            config = try aws.resolve()
        } catch let e as AWSError {
            CLI.fail(e.message)
        }
        let endpoint = config.endpoint(for: .sts)
        print("Credentials: \(config.credentials.accessKeyID) from \(config.credentialSource)")
        print("Region:      \(config.region) (from \(config.regionSource))")
        print("Endpoint:    \(endpoint.url.absoluteString) (\(endpoint.source))")
        do {
            let identity = try await STS(client: AWSClient(configuration: config)).getCallerIdentity()
            print("Account:     \(identity.account)")
            print("ARN:         \(identity.arn)")
            print("OK: these credentials work.")
        } catch let e as AWSError {
            CLI.fail(Self.explain(e, config: config))
        }
    }

    /// One paragraph a user can act on, for the failures people actually hit.
    static func explain(_ e: AWSError, config: AWSConfiguration) -> String {
        if e.isAuthenticationFailure {
            return """
            AWS refused the credentials (\(e)).
            The access key \(config.credentials.accessKeyID) from \(config.credentialSource) is unknown, or its secret is wrong, or the session token has expired. \
            Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or the profile "\(config.profile)" in ~/.aws/credentials; \
            create a new access key in the IAM console if you no longer have the secret.
            """
        }
        if e.code == .transport {
            return """
            Could not reach \(config.endpoint(for: .sts).url.absoluteString) (\(e.message)).
            Check your network, or AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS if you point Otter at another endpoint.
            """
        }
        return "The call to STS failed: \(e)"
    }
}
