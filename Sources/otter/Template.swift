import ArgumentParser
import Foundation
import OtterStacks

struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the Otter CloudFormation template (JSON) for review or other tools.",
        discussion: """
            The same options give the same bytes. The template's parameters ArtifactsBucket and \
            HandlersKey (the handler zip) have no default: `otter deploy` fills them in.
            """
    )

    @Option(name: .long, help: "Stack name: the otter:stack tag on every resource.")
    var stack: String = "otter"

    @Option(name: .long, help: "Default maximum peers of a new room (2-4).")
    var maxPeers: Int = 2

    @Option(name: .long, help: "Relay container image taking coturn flags (coturn/coturn, or an otter relay image).")
    var relayImage: String = OtterStackOptions.defaultRelayImage

    @Option(name: .long, help: "Fewest relay tasks (1-\(OtterStackOptions.relayTaskLimit)).")
    var relayMin: Int = 1

    @Option(name: .long, help: "Most relay tasks; CPU target tracking scales between --relay-min and this (1-\(OtterStackOptions.relayTaskLimit)).")
    var relayMax: Int = 4

    @Option(name: .long, help: ArgumentHelp("Write the template to this file instead of standard output.", valueName: "file"))
    var out: String?

    var options: OtterStackOptions {
        OtterStackOptions(stackName: stack, maxPeers: maxPeers, relayImage: relayImage,
                          relayMinTasks: relayMin, relayMaxTasks: relayMax)
    }

    func validate() throws {
        do { try options.validate() } catch { throw ValidationError(error.description) }
        if let out, out.isEmpty { throw ValidationError("--out needs a file name") }
    }

    func run() throws {
        let bytes = Data(try OtterStacks.OtterStack.template(options).json.renderedBytes())
        guard let out else {
            try? FileHandle.standardOutput.write(contentsOf: bytes)  // a reader that left (`| head`) is not a crash
            return
        }
        do {
            // Atomic: a reader (or a deploy) never sees half a template.
            try bytes.write(to: URL(fileURLWithPath: out), options: .atomic)
        } catch {
            throw ValidationError("cannot write \(out): \(error.localizedDescription)")
        }
    }
}
