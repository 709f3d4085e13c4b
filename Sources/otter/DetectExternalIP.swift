import ArgumentParser
import Foundation

/// `otter detect-external-ip`: the relay task's public IPv4 address, for
/// `--external-ip=$(detect-external-ip)` in images with a shell (coturn's contract).
/// `otter relay --external-ip=auto` does the same lookup itself.
struct DetectExternalIP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect-external-ip",
        // Used inside relay images only, so kept out of the top-level help.
        abstract: "Print this ECS task's public IPv4 address (task metadata + EC2 DescribeNetworkInterfaces).",
        discussion: "Needs ECS_CONTAINER_METADATA_URI_V4 (set by ECS) and the task role's credentials; prints only the address, so $(...) can use it.",
        shouldDisplay: false
    )

    @Option(help: "AWS region (default: AWS_REGION, as ECS sets it).")
    var region: String?

    func run() async throws {
        do {
            print(try await TaskExternalIP.detect(environment: ProcessInfo.processInfo.environment, region: region))
        } catch {
            CLI.fail(error.message)  // typed: only TaskExternalIP.Failure reaches here
        }
    }
}
