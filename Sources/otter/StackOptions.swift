import ArgumentParser
import OtterStacks

/// The stack options `otter template` and `otter deploy` share: one declaration,
/// defaults from `OtterStackOptions`, validated by it.
struct StackOptions: ParsableArguments {
    private static let defaults = OtterStackOptions()

    @Option(name: .customLong("stack"), help: "Stack name; also the otter:stack tag on every resource.")
    var name: String = StackOptions.defaults.stackName

    @Option(help: "Default maximum peers of a new room (2-4).")
    var maxPeers: Int = StackOptions.defaults.maxPeers

    @Option(help: ArgumentHelp(
        "Relay container image taking coturn flags, e.g. \(OtterStackOptions.defaultRelayImage). Without it, deploy on Linux x86_64 builds the relay image from this otter binary and pushes it to ECR; elsewhere (and in `otter template`) it is \(OtterStackOptions.defaultRelayImage).",
        valueName: "image"))
    var relayImage: String?

    @Flag(help: "The --relay-image is an otter relay image (from `otter relay-image`; no shell): the task passes --external-ip=auto and the TURN secret through TURN_SECRET, as otter relay reads them, instead of coturn's shell expansions.")
    var otterRelayImage = false

    @Option(help: "Fewest relay tasks (1-\(OtterStackOptions.relayTaskLimit)).")
    var relayMin: Int = StackOptions.defaults.relayMinTasks

    @Option(help: "Most relay tasks; CPU target tracking scales between --relay-min and this (1-\(OtterStackOptions.relayTaskLimit)).")
    var relayMax: Int = StackOptions.defaults.relayMaxTasks

    @Option(help: ArgumentHelp(
        "Concurrent TURN allocations per room (\(range(OtterStackOptions.relayUserQuotaRange))): its members share one TURN username, and a full 4-peer room in Chromium can take 96.",
        valueName: "n"))
    var relayUserQuota: Int = StackOptions.defaults.relayUserQuota

    @Option(help: ArgumentHelp("Concurrent TURN allocations per relay task (\(range(OtterStackOptions.relayTotalQuotaRange))).",
                               valueName: "n"))
    var relayTotalQuota: Int = StackOptions.defaults.relayTotalQuota

    @Option(help: ArgumentHelp(
        "Bytes per second one TURN allocation may relay (\(range(OtterStackOptions.relayMaxBpsRange)); the default is about 4 Mbit/s).",
        valueName: "bytes"))
    var relayMaxBps: Int = StackOptions.defaults.relayMaxBps

    @Option(help: ArgumentHelp(
        "Name for TURN over TLS on 443 (turns:), e.g. turn.example.com; needs --certificate-arn. Point it (CNAME) at the relay load balancer after the deploy.",
        valueName: "host"))
    var domain: String?

    @Option(help: ArgumentHelp("ACM certificate for --domain, in the stack's region (arn:aws:acm:REGION:ACCOUNT:certificate/ID).",
                               valueName: "arn"))
    var certificateArn: String?

    var options: OtterStackOptions {
        OtterStackOptions(stackName: name, maxPeers: maxPeers, relayImage: relayImage ?? StackOptions.defaults.relayImage,
                          relayMinTasks: relayMin, relayMaxTasks: relayMax,
                          relayUserQuota: relayUserQuota, relayTotalQuota: relayTotalQuota, relayMaxBps: relayMaxBps,
                          domain: domain, certificateArn: certificateArn, relayImageIsOtter: otterRelayImage)
    }

    func validate() throws {
        if otterRelayImage && relayImage == nil {
            throw ValidationError("--otter-relay-image describes the image given with --relay-image; give both (without --relay-image, otter deploy builds and pushes otter's own relay image by itself)")
        }
        do { try options.validate() } catch { throw ValidationError(error.description) }
    }

    private static func range(_ r: ClosedRange<Int>) -> String { "\(r.lowerBound)-\(r.upperBound)" }
}
