import Crypto
import Foundation

/// Built relay images kept as OCI layouts, one per input: building from a debug binary takes
/// tens of seconds to minutes (strip, tar, gzip of ~160 MB), and a redeploy of the same binary
/// needs the same bytes. The key covers everything the image is made of: both binaries' digests,
/// each library of its closure and the CA bundle by path, size and modification time, and the
/// builder's options; a change to any of them builds anew. A layout that no longer matches its
/// digests (disk trouble, a hand edit) is rebuilt, never pushed.
public struct RelayImageCache: Sendable {
    public let directory: URL
    /// Bump when the builder's output changes for the same inputs.
    static let format = "otter-relay-image-2"

    public init(directory: URL) { self.directory = directory }

    /// `$XDG_CACHE_HOME/otter/relay-image`, else `~/.cache/otter/relay-image`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOME"].map { $0 + "/.cache" }
        return base.map { URL(fileURLWithPath: $0).appendingPathComponent("otter/relay-image") }
    }

    /// The image for `builder`, from the cache when its inputs are unchanged.
    public func image(for builder: RelayImageBuilder) throws -> (image: OCIImage, cached: Bool) {
        let key = try self.key(builder)
        let dir = directory.appendingPathComponent(key)
        if let image = try? Self.read(dir) { return (image, true) }
        let image = try builder.build()
        // Written beside, then renamed: a reader never sees half a layout.
        let partial = directory.appendingPathComponent(".\(key).\(UUID().uuidString)")
        try OCILayout.write(image, to: partial)
        try? FileManager.default.removeItem(at: dir)
        do { try FileManager.default.moveItem(at: partial, to: dir) } catch {
            try? FileManager.default.removeItem(at: partial)
            return (image, false)
        }
        prune(keeping: dir)
        return (try Self.read(dir), false)
    }

    /// Keeps the `keep` most recently built images (each is tens of MB): a new binary per
    /// deploy would otherwise fill the disk.
    func prune(keeping current: URL, keep: Int = 3) {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.contentModificationDateKey]) else { return }
        let dated = entries.filter { !$0.lastPathComponent.hasPrefix(".") && $0.lastPathComponent != current.lastPathComponent }
            .map { ($0, (try? $0.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast) }
            .sorted { $0.1 > $1.1 }
        for (url, _) in dated.dropFirst(max(keep - 1, 0)) { try? fm.removeItem(at: url) }
    }

    func key(_ b: RelayImageBuilder) throws -> String {
        var h = SHA256()
        h.update(data: Data("\(Self.format)\nstrip=\(b.strip)\n".utf8))
        for executable in [b.binary, b.relayBinary] {
            let bytes = try Data(contentsOf: executable, options: .mappedIfSafe)
            h.update(data: Data(SHA256.hash(data: bytes)))
        }
        var inputs = try b.closureObjects().map(\.hostPath)
        if let ca = b.caCertificates { inputs.append(ca.path) }
        for path in inputs {
            let a = try FileManager.default.attributesOfItem(atPath: path)
            let size = (a[.size] as? NSNumber)?.int64Value ?? -1
            let mtime = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            h.update(data: Data("\(path)\t\(size)\t\(mtime)\n".utf8))
        }
        return h.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Reads a layout this cache wrote, checking every blob against its digest.
    static func read(_ dir: URL) throws -> OCIImage {
        let blobs = dir.appendingPathComponent("blobs/sha256")
        func blob(_ digest: String) throws -> Data {
            let data = try Data(contentsOf: blobs.appendingPathComponent(String(digest.dropFirst("sha256:".count))))
            guard OCIDigest.sha256(data) == digest else { throw ImageError(.io, "cached blob \(digest) does not match its digest") }
            return data
        }
        struct Index: Decodable { struct Entry: Decodable { var digest: String }; var manifests: [Entry] }
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: dir.appendingPathComponent("index.json")))
        guard let manifestDigest = index.manifests.first?.digest else { throw ImageError(.io, "cached layout has no manifest") }
        let manifestData = try blob(manifestDigest)
        let manifest = try JSONDecoder().decode(Manifest.self, from: manifestData)
        let config = try blob(manifest.config.digest)
        var layers: [Blob] = []
        for l in manifest.layers {
            _ = try blob(l.digest)
            layers.append(Blob(digest: l.digest, size: l.size, mediaType: l.mediaType,
                               content: .file(blobs.appendingPathComponent(String(l.digest.dropFirst("sha256:".count))))))
        }
        return OCIImage(manifest: manifestData, manifestDigest: manifestDigest, config: config, configDigest: manifest.config.digest,
                        layers: layers)
    }
}
