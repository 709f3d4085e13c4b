import ArgumentParser
import Foundation
import OtterImage

/// `otter relay-image`: the relay's OCI image, built from this very binary without Docker,
/// written as an OCI layout directory (what `otter deploy` pushes to ECR).
struct RelayImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay-image",
        abstract: "Write the relay's container image (OCI layout, linux/amd64) built from this otter binary; no Docker needed.",
        discussion: """
            The image holds this binary, the relay-only otter-relay built beside it, the shared \
            libraries they load (the dynamic loader included), CA certificates and the non-root \
            user otter (65532); its entrypoint is `otter relay`, which execs otter-relay. The same \
            binaries give the same digests. Built images are kept in \
            $XDG_CACHE_HOME/otter/relay-image (else ~/.cache/…; the 3 latest), shared with `otter deploy`.
            Inspect or push it yourself, e.g.:
              umoci unpack --rootless --image DIR:latest rootfs
              skopeo copy oci:DIR:latest docker://REGISTRY/otter-relay:TAG
            """
    )

    @Option(help: ArgumentHelp("Directory to write the OCI layout to (created if missing).", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp("The tag recorded in index.json.", valueName: "tag"))
    var tag: String = "latest"

    @Option(help: ArgumentHelp("Build from this otter binary (and the otter-relay beside it) instead of the running one (linux/amd64).", valueName: "file"))
    var binary: String?

    @Option(help: ArgumentHelp("The relay-only binary to pack (default: otter-relay beside the otter binary); the otter binary itself packs it alone.", valueName: "file"))
    var relayBinary: String?

    func validate() throws {
        if out.isEmpty { throw ValidationError("--out needs a directory") }
        if tag.isEmpty { throw ValidationError("--tag needs a value") }
    }

    func run() throws {
        let started = ContinuousClock.now
        let image: OCIImage
        do {
            let builder = RelayImageBuilder(binary: URL(fileURLWithPath: binary ?? Self.runningBinary()),
                                            relayBinary: relayBinary.map { URL(fileURLWithPath: $0) })
            // The cache `otter deploy` uses: the same inputs give the same bytes, built once.
            if let dir = RelayImageCache.defaultDirectory(), let hit = try? RelayImageCache(directory: dir).image(for: builder) {
                image = hit.image
            } else {
                image = try builder.build()
            }
            try OCILayout.write(image, to: URL(fileURLWithPath: out), tag: tag)
        } catch let e as ImageError {
            CLI.fail(e.message)
        }
        let seconds = (ContinuousClock.now - started) / .milliseconds(1) / 1000
        let megabytes = String(format: "%.1f", Double(image.compressedSize) / 1e6)
        CLI.note("wrote \(out):\(tag) (\(megabytes) MB compressed) in \(String(format: "%.1f", seconds)) s")
        print(image.manifestDigest)
    }

    /// The executable of this process, symlinks resolved: what runs is what gets packaged.
    static func runningBinary() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
