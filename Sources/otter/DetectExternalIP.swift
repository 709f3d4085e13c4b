import ArgumentParser
import Foundation
import OtterAWS

/// `otter detect-external-ip`: the relay task's public IPv4 address, for
/// `--external-ip=$(detect-external-ip)` in the relay image (see
/// Sources/OtterStacks/README.md). Fargate gives the container only its
/// private address; the public one is the ENI's association, read through the
/// EC2 API with the task role — no third-party "what is my IP" service.
struct DetectExternalIP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect-external-ip",
        // Used inside the relay image only, so kept out of the top-level help.
        abstract: "Print this ECS task's public IPv4 address (task metadata + EC2 DescribeNetworkInterfaces).",
        discussion: "Needs ECS_CONTAINER_METADATA_URI_V4 (set by ECS) and the task role's credentials; prints only the address, so $(...) can use it.",
        shouldDisplay: false
    )

    @Option(help: "AWS region (default: AWS_REGION, as ECS sets it).")
    var region: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let metadata = env["ECS_CONTAINER_METADATA_URI_V4"], !metadata.isEmpty else {
            CLI.fail("ECS_CONTAINER_METADATA_URI_V4 is not set: this only works inside an ECS task. Elsewhere pass --external-ip yourself.")
        }
        let privateIP: String
        do {
            privateIP = try await TaskMetadata.privateIPv4(metadataURI: metadata)
        } catch {
            CLI.fail("cannot read the task metadata at \(metadata): \(error)")
        }
        let config: AWSConfiguration
        do {
            config = try await AWSConfiguration.resolveIncludingContainer(region: region)
        } catch let e as AWSError {
            CLI.fail(e.message)
        }
        do {
            guard let ip = try await EC2(client: AWSClient(configuration: config)).publicIP(ofInterfaceWithPrivateIP: privateIP) else {
                CLI.fail("the network interface with \(privateIP) has no public IP. Run the relay service with assignPublicIp ENABLED in a public subnet.")
            }
            print(ip)
        } catch let e as AWSError {
            CLI.fail("EC2 DescribeNetworkInterfaces failed: \(e). The task role needs ec2:DescribeNetworkInterfaces.")
        }
    }
}
