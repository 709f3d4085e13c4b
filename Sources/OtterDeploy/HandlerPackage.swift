import Foundation
import ZIPFoundation

/// The Lambda handlers as one zip whose bytes depend only on the files'
/// names and contents: same files → same bytes → same content-hash key, so a
/// redeploy with unchanged handlers uploads nothing and changes no function.
public struct HandlerPackage: Sendable {
    public let bytes: [UInt8]
    /// First 16 hex digits of the zip's SHA-256.
    public let hash: String
    public let files: [String]

    /// Zip timestamps are DOS dates; 1980-01-01 is the earliest they can hold.
    static let fixedDate = Date(timeIntervalSince1970: 315_532_800)

    /// Packs the `*.py` files of `directory` (not its tests or caches) and each
    /// of `shared` (Templates/limits.json, which otter_common reads beside
    /// itself) at the zip's root.
    public static func build(directory: String, shared: [String] = []) throws -> HandlerPackage {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw DeployError(.missingFiles, "cannot read the Lambda handlers in \(directory)")
        }
        let handlers = names.filter { $0.hasSuffix(".py") && !$0.hasPrefix("test_") }
        guard !handlers.isEmpty else {
            throw DeployError(.missingFiles, "no Lambda handlers (*.py) in \(directory)")
        }
        var paths = Dictionary(uniqueKeysWithValues: handlers.map { ($0, URL(fileURLWithPath: directory).appendingPathComponent($0)) })
        for path in shared {
            let url = URL(fileURLWithPath: path)
            guard fm.fileExists(atPath: url.path) else {
                throw DeployError(.missingFiles, "\(url.path) is missing; the Lambda handlers read it")
            }
            paths[url.lastPathComponent] = url
        }
        let files = paths.keys.sorted()
        let archive = try Archive(data: Data(), accessMode: .create)
        for name in files {
            let data = try Data(contentsOf: paths[name]!)
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count),
                                 modificationDate: fixedDate, permissions: 0o644, compressionMethod: .deflate) { position, size in
                data.subdata(in: Data.Index(position)..<Data.Index(position) + size)
            }
        }
        guard let zipped = archive.data else { throw DeployError(.missingFiles, "could not build the handler zip") }
        let bytes = [UInt8](zipped)
        return HandlerPackage(bytes: bytes, hash: ArtifactsHash.hex(bytes), files: files)
    }

    public var key: String { "handlers/\(hash).zip" }
}
