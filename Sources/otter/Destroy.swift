import ArgumentParser
import Foundation
import OtterAWS
import OtterDeploy

/// `otter destroy`: everything `otter deploy` made, gone.
struct Destroy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete the Otter stack, its buckets (all object versions), its relay image repository and the local state.",
        discussion: "Safe to run twice, and after an interrupted deploy or destroy."
    )

    @OptionGroup var aws: AWSOptions

    @Option(help: "Stack name.")
    var stack = "otter"

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @Option(help: "Folder of the local state.")
    var dataDir = ".otter"

    @Flag(help: "Print every stack event (on a terminal, destroy otherwise shows one progress line).")
    var verbose = false

    func run() async throws {
        let console = Console(progressToStderr: false, live: !verbose && isatty(1) == 1)
        let config: AWSConfiguration
        do { config = try await aws.resolve() } catch let e as AWSError { CLI.fail(e.message) }
        let client = AWSClient(configuration: config)
        let identity: STS.CallerIdentity
        do { identity = try await Identity.check(client: client, console: console) } catch let e as DeployError { CLI.fail(e.message) }
        let destroyer = Destroyer(client: client, console: console,
                                  request: DestroyRequest(stack: stack, dataDirectory: dataDir, pollSeconds: PollInterval.seconds))
        do { try await destroyer.check(identity: identity) } catch let e as DeployError { CLI.fail(e.message) }
        catch let e as AWSError { CLI.fail("an AWS call failed: \(e). Nothing was removed.") }
        if !yes {
            guard isatty(0) == 1 else {
                CLI.fail("standard input is not a terminal, so nobody can confirm. Run again with --yes to destroy stack \(stack). Nothing was deleted.")
            }
            FileHandle.standardError.write(Data("Destroy stack \(stack) in account \(identity.account) (\(config.region)) with its rooms, buckets and web app? [y/N] ".utf8))
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard answer == "y" || answer == "yes" else { CLI.fail("not destroyed; nothing was deleted.") }
        }
        Interrupts.shared.install { CLI.fail("interrupted twice; stopped at once. Run `otter destroy` again to finish.", status: 130) }
        let outcome: Destroyer.Outcome
        do {
            outcome = try await destroyer.run(identity: identity)
        } catch let e as DeployError {
            console.finish(error: e.message)
            CLI.fail(e.message, status: e.code == .interrupted ? 130 : 1)
        } catch let e as AWSError {
            CLI.fail("an AWS call failed: \(e). Run `otter destroy` again to resume.")
        }
        console.say(outcome == .destroyed ? "Destroyed." : "Nothing of stack \(stack) is left in AWS or in \(dataDir).")
    }
}
