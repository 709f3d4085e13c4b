import ArgumentParser
import Foundation
import OtterAWS
import OtterDeploy
import OtterLocalState
import OtterStacks

/// `otter deploy`: the whole stack on AWS with one command.
struct Deploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deploy (or update) Otter on AWS with CloudFormation.",
        discussion: """
            Packages the Lambda handlers, uploads them with the template to a tagged artifacts bucket, \
            builds the relay image from this otter binary and pushes it to a tagged ECR repository \
            (on Linux x86_64, without Docker; --relay-image IMAGE uses that image instead; \
            OTTER_REGISTRY_URL sends the registry calls to another endpoint), \
            shows the change set and asks before running it (--yes skips), streams the stack's events, \
            then stores the API key (first deploy only), uploads the web app with its config.js and saves \
            the endpoints in <data-dir>/<stack>.json. Without a terminal, --yes is required (nothing is created \
            otherwise). On a terminal, each phase shows one progress line (--verbose: every event); every line \
            goes to <data-dir>/<stack>.deploy.log. Ctrl-C while waiting is safe: run it again to resume.
            """
    )

    @OptionGroup var aws: AWSOptions

    @Flag(help: "Deploy without asking for confirmation.")
    var yes = false

    @OptionGroup var stack: StackOptions

    @Option(help: "Folder for the local state (<stack>.json and the API key).")
    var dataDir = ".otter"

    @Flag(help: "Print the result as JSON on stdout (progress goes to stderr).")
    var json = false

    @Flag(help: "Print every stack event (on a terminal, deploy otherwise shows one progress line per phase; the full stream is always in <data-dir>/<stack>.deploy.log).")
    var verbose = false

    var stackOptions: OtterStackOptions { stack.options }

    /// --relay-image as given; else this binary's own image where it can run (the task is
    /// linux/amd64), else the pinned coturn image.
    var relayImageSource: RelayImageSource {
        if let given = stack.relayImage { return .given(given) }
        #if os(Linux) && arch(x86_64)
        return .build(binary: RelayImage.runningBinary())
        #else
        return .pinned(OtterStackOptions.defaultRelayImage,
                       reason: "this host cannot build the relay image from itself, which needs Linux x86_64 like the Fargate task; pass --relay-image to choose another")
        #endif
    }

    func run() async throws {
        let console = Console(progressToStderr: json, live: !verbose && isatty(json ? 2 : 1) == 1,
                              logPath: LocalState(directory: dataDir).deployLog(stack: stack.name))
        let config: AWSConfiguration
        do { config = try await aws.resolve() } catch let e as AWSError { CLI.fail(e.message) }
        guard let templates = TemplatesLocator.find() else {
            CLI.fail("cannot find the Templates folder (Templates/lambda and Templates/webapp). Run otter from the Otter checkout.")
        }
        Interrupts.shared.install { CLI.fail("interrupted twice; stopped at once. Run `otter deploy` again to resume.", status: 130) }
        let registry = ProcessInfo.processInfo.environment["OTTER_REGISTRY_URL"].flatMap { $0.isEmpty ? nil : URL(string: $0) }
        let request = DeployRequest(stack: stackOptions, yes: yes, interactive: isatty(0) == 1, dataDirectory: dataDir,
                                    lambdaDirectory: templates + "/lambda", webAppDirectory: templates + "/webapp",
                                    pollSeconds: PollInterval.seconds, relayImage: relayImageSource, registryOverride: registry)
        let result: DeployResult
        do {
            result = try await Deployer(client: AWSClient(configuration: config), console: console, request: request).run()
        } catch let e as DeployError {
            console.finish(error: e.message)
            CLI.fail(e.message, status: e.code == .interrupted ? 130 : 1)
        } catch let e as AWSError {
            let message = "an AWS call failed: \(e). Run `otter deploy` again to resume; `otter destroy` removes what was created."
            console.finish(error: message)
            CLI.fail(message)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            console.result(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        console.say("")
        console.say(result.upToDate ? "Otter is up to date (\(result.status))." : "Otter is deployed (\(result.status)).")
        console.say("API URL: \(result.apiUrl ?? "?")")
        console.say("Web app: \(result.webAppUrl ?? "?")")
        for line in RelaySummary(turnUrls: result.turnUrls ?? [], quotas: result.relayQuotas ?? [:]).lines { console.say(line) }
        if let key = result.apiKey {
            console.say("API key: \(key)", logged: false)
            console.say("         (shown once; AWS keeps only its hash. A copy for the otter CLI is in \(result.apiKeyFile ?? "?"), mode 0600)")
        } else if let file = result.apiKeyFile {
            console.say("API key: stored in \(file) (mode 0600)")
        } else {
            console.say("API key: set by an earlier deploy; this machine has no copy (pass --api-key to create-room).")
        }
        if let room = result.sampleRoomUrl { console.say("Sample room: \(room)", logged: false) }
        console.say("State:   \(LocalState(directory: dataDir).deployRecord(stack: stack.name))")
    }
}

/// Test hook: OTTER_POLL_SECONDS shortens the waits against a local endpoint.
enum PollInterval {
    static var seconds: Double {
        ProcessInfo.processInfo.environment["OTTER_POLL_SECONDS"].flatMap(Double.init).map { max(0.05, $0) } ?? 3
    }
}

/// Finds Templates/ next to the working directory or the binary.
enum TemplatesLocator {
    static func find() -> String? {
        WebAppLocator.find().map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
            .flatMap { FileManager.default.fileExists(atPath: $0 + "/lambda/otter_common.py") ? $0 : nil }
    }
}
