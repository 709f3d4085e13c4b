import Foundation

/// Builds the relay's OCI image (linux/amd64) from an `otter` binary without a container
/// daemon, as ko and Jib do: one layer holding the binary, the relay-only `otter-relay` built
/// beside it, every shared object the loader maps for either (interpreter included), CA
/// certificates and a non-root user; a config whose entrypoint is `otter relay`, which
/// resolves `--external-ip=auto` and then execs `/otter-relay` (so the idle task holds only
/// the relay's pages). The same inputs give the same bytes, so the same digests.
public struct RelayImageBuilder: Sendable {
    /// The non-root user the relay runs as (distroless's "nonroot" id).
    public static let userID = 65532
    public static let binaryImagePath = "/otter"
    public static let entrypoint = [binaryImagePath, "relay"]
    /// Beside `/otter`, where `otter relay` looks for it.
    public static let relayBinaryImagePath = "/otter-relay"
    public static let relayBinaryName = "otter-relay"
    /// Flags the image runs with when the task gives none: TURN REST credentials from
    /// TURN_SECRET, the public address from the ECS task metadata, logs to stdout.
    /// A task definition's command replaces them.
    public static let defaultArguments = [
        "--log-file=stdout", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint",
        "--use-auth-secret", "--realm=otter", "--external-ip=auto",
        "--listening-port=3478", "--min-port=49152", "--max-port=65535",
    ]
    /// The listening port over UDP and TCP. The relayed range (49152-65535/udp) is opened
    /// by the security group, not listed here: an exposed port is one config key per port.
    public static let exposedPorts = ["3478/tcp", "3478/udp"]

    public var binary: URL
    /// The relay-only executable; by default `otter-relay` in `binary`'s directory.
    public var relayBinary: URL
    public var caCertificates: URL?
    public var closure: DependencyClosure
    /// Drop what the loader never reads (debug info, full symbol tables) from the binary
    /// and its libraries: a debug build shrinks several times; crash backtraces lose names.
    public var strip: Bool

    public init(binary: URL,
                relayBinary: URL? = nil,
                caCertificates: URL? = URL(fileURLWithPath: "/etc/ssl/certs/ca-certificates.crt"),
                closure: DependencyClosure = DependencyClosure(),
                strip: Bool = true) {
        self.binary = binary
        self.relayBinary = relayBinary ?? Self.relayBinary(beside: binary)
        self.caCertificates = caCertificates
        self.closure = closure
        self.strip = strip
    }

    /// `otter-relay` in the directory of `binary` (SwiftPM builds every product into one).
    public static func relayBinary(beside binary: URL) -> URL {
        binary.deletingLastPathComponent().appendingPathComponent(relayBinaryName)
    }

    /// An image without `otter-relay` would still run, but the relay would keep every page
    /// of the full CLI (+20 MB idle): refused, with the command that builds it.
    func checkRelayBinary() throws {
        guard FileManager.default.isExecutableFile(atPath: relayBinary.path) else {
            throw ImageError(.missingRelayBinary, "\(relayBinary.path) is missing: the relay image runs the relay-only binary \(Self.relayBinaryName), built beside \(binary.lastPathComponent). Build it in the same configuration, e.g. `swift build -c release --product \(Self.relayBinaryName)` (Scripts/otter builds both)")
        }
    }

    /// False when `relayBinary` is `binary` itself (a program that is its own relay, e.g.
    /// coturn's turnserver packed for comparison): packed once, at /otter.
    var packsRelayBinary: Bool {
        relayBinary.resolvingSymlinksInPath().path != binary.resolvingSymlinksInPath().path
    }

    /// Both executables and the union of what the loader maps for them, each path once.
    func closureObjects() throws -> [DependencyClosure.Object] {
        var objects = try closure.resolve(binary: binary.path, imagePath: Self.binaryImagePath)
        guard packsRelayBinary else { return objects }
        try checkRelayBinary()
        var taken = Set(objects.map(\.imagePath))
        for object in try closure.resolve(binary: relayBinary.path, imagePath: Self.relayBinaryImagePath)
        where taken.insert(object.imagePath).inserted {
            // A symlink's target must already be in the image: keep only those that are.
            if let first = object.sameAs, !taken.contains(first) { continue }
            objects.append(object)
        }
        return objects
    }

    /// The layer's entries, before tar: also what tests and `--list` look at.
    public func entries() throws -> [TarEntry] {
        let objects = try closureObjects()
        var entries: [TarEntry] = [
            .file(String(Self.binaryImagePath.dropFirst()), try object(binary), mode: 0o755),
            .file("etc/passwd", Data("root:x:0:0:root:/root:/sbin/nologin\notter:x:\(Self.userID):\(Self.userID):otter relay:/nonexistent:/sbin/nologin\n".utf8)),
            .file("etc/group", Data("root:x:0:\notter:x:\(Self.userID):\n".utf8)),
            // Foundation and the C library write temporary files here; world-writable with the sticky bit.
            .directory("tmp", mode: 0o1777),
            // Mount points a runtime fills. Swift reads its arguments from /proc/self/cmdline:
            // without /proc, `otter relay` would see no subcommand.
            .directory("proc", mode: 0o555), .directory("dev"), .directory("sys", mode: 0o555),
        ]
        if packsRelayBinary {
            entries.append(.file(String(Self.relayBinaryImagePath.dropFirst()), try object(relayBinary), mode: 0o755))
        }
        if let ca = caCertificates {
            entries.append(.file("etc/ssl/certs/ca-certificates.crt", try read(ca)))
        }
        for object in objects {
            let path = String(object.imagePath.dropFirst())
            if let first = object.sameAs {
                entries.append(.symlink(path, to: first))
            } else {
                entries.append(.file(path, try self.object(URL(fileURLWithPath: object.hostPath)), mode: 0o755))
            }
        }
        return entries
    }

    public func build() throws -> OCIImage {
        let tar = try TarArchive.write(try entries())
        let layer = Blob(data: try Gzip.compress(tar), mediaType: OCIMediaType.layerGzip)
        let config = try Self.json(ImageConfig(
            architecture: "amd64", os: "linux",
            config: .init(User: "\(Self.userID):\(Self.userID)", Entrypoint: Self.entrypoint, Cmd: Self.defaultArguments,
                          ExposedPorts: Dictionary(uniqueKeysWithValues: Self.exposedPorts.map { ($0, Empty()) }),
                          WorkingDir: "/",
                          Labels: ["org.opencontainers.image.title": "otter relay"]),
            rootfs: .init(type: "layers", diff_ids: [OCIDigest.sha256(tar)]),
            history: [.init(created_by: "otter relay-image", comment: "otter and otter-relay binaries, their shared libraries, CA certificates, user otter")]))
        let configDigest = OCIDigest.sha256(config)
        let manifest = try Self.json(Manifest(
            schemaVersion: 2, mediaType: OCIMediaType.manifest,
            config: Descriptor(mediaType: OCIMediaType.config, digest: configDigest, size: Int64(config.count)),
            layers: [Descriptor(mediaType: layer.mediaType, digest: layer.digest, size: layer.size)]))
        return OCIImage(manifest: manifest, manifestDigest: OCIDigest.sha256(manifest),
                        config: config, configDigest: configDigest, layers: [layer])
    }

    func object(_ url: URL) throws -> Data {
        let bytes = try read(url)
        return strip ? try ELFStrip.strip(bytes) : bytes
    }

    func read(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw ImageError(.io, "cannot read \(url.path): \(error.localizedDescription)")
        }
    }

    /// Sorted keys and no escaped slashes: the JSON, and so its digest, depends on the content only.
    static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

// The OCI image spec's JSON shapes (field names as the spec spells them).
struct Empty: Codable, Equatable {}

struct Descriptor: Codable, Equatable {
    var mediaType: String
    var digest: String
    var size: Int64
    var annotations: [String: String]?
}

struct Manifest: Codable {
    var schemaVersion: Int
    var mediaType: String
    var config: Descriptor
    var layers: [Descriptor]
}

struct ImageConfig: Codable {
    struct Config: Codable {
        var User: String
        var Entrypoint: [String]
        var Cmd: [String]
        var ExposedPorts: [String: Empty]
        var WorkingDir: String
        var Labels: [String: String]
    }
    struct RootFS: Codable {
        var type: String
        var diff_ids: [String]
    }
    struct History: Codable {
        var created_by: String
        var comment: String
    }
    var architecture: String
    var os: String
    var config: Config
    var rootfs: RootFS
    var history: [History]
}
