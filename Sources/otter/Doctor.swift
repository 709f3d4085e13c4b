import ArgumentParser
import Foundation
import OtterAWS
import OtterDeploy

/// `otter doctor`: proves the AWS setup works before a deploy depends on it.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check AWS credentials, region and endpoint by calling STS GetCallerIdentity."
    )

    @OptionGroup var aws: AWSOptions

    func run() async throws {
        let config: AWSConfiguration
        do {
            config = try await aws.resolve()
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
            CLI.fail(Identity.explain(e, config: config))
        }
    }
}
