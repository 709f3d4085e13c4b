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

    @OptionGroup var stack: StackOptions

    @Option(name: .long, help: ArgumentHelp("Write the template to this file instead of standard output.", valueName: "file"))
    var out: String?

    var options: OtterStackOptions { stack.options }

    func validate() throws {
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
