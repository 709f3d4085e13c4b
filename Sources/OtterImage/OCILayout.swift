import Foundation

/// An OCI image layout directory (image-spec "image-layout"): `oci-layout`, `index.json`
/// and `blobs/sha256/<hex>`, readable by umoci, skopeo (`oci:DIR:TAG`) and crane.
public enum OCILayout {
    public static func write(_ image: OCIImage, to dir: URL, tag: String = "latest") throws {
        let fm = FileManager.default
        let blobs = dir.appendingPathComponent("blobs/sha256")
        do {
            try fm.createDirectory(at: blobs, withIntermediateDirectories: true)
            for blob in image.layers + [image.configBlob, image.manifestBlob] {
                let target = blobs.appendingPathComponent(blob.hex)
                if fm.fileExists(atPath: target.path) { continue }
                switch blob.content {
                case .data(let d): try d.write(to: target)
                case .file(let url): try fm.copyItem(at: url, to: target)
                }
            }
            try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: dir.appendingPathComponent("oci-layout"))
            try index(image, tag: tag).write(to: dir.appendingPathComponent("index.json"))
        } catch let e as ImageError {
            throw e
        } catch {
            throw ImageError(.io, "cannot write the image layout to \(dir.path): \(error.localizedDescription)")
        }
    }

    static func index(_ image: OCIImage, tag: String) throws -> Data {
        struct Platform: Codable { var architecture: String; var os: String }
        struct Entry: Codable {
            var mediaType: String; var digest: String; var size: Int64
            var platform: Platform; var annotations: [String: String]
        }
        struct Index: Codable { var schemaVersion: Int; var mediaType: String; var manifests: [Entry] }
        return try RelayImageBuilder.json(Index(schemaVersion: 2, mediaType: OCIMediaType.index, manifests: [
            Entry(mediaType: OCIMediaType.manifest, digest: image.manifestDigest, size: Int64(image.manifest.count),
                  platform: Platform(architecture: "amd64", os: "linux"),
                  annotations: ["org.opencontainers.image.ref.name": tag]),
        ]))
    }
}
