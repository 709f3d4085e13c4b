import ArgumentParser
import OtterAWS

/// The AWS options every cloud command shares; the environment and
/// ~/.aws files supply the rest, as with the AWS CLI.
struct AWSOptions: ParsableArguments {
    @Option(help: "AWS profile from ~/.aws/credentials or ~/.aws/config (default: AWS_PROFILE or \"default\").")
    var profile: String?

    @Option(help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, or the profile's region).")
    var region: String?

    /// Environment, profile, then the container credentials endpoint (an
    /// ECS task or CodeBuild job deploying with its role).
    func resolve() async throws -> AWSConfiguration {
        try await AWSConfiguration.resolveIncludingContainer(profile: profile, region: region)
    }
}
