import Crypto
import Foundation

/// A content-addressed blob of an OCI image: a layer, the config or the manifest.
public struct Blob: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        case data(Data)
        case file(URL)
    }

    /// "sha256:" and 64 lowercase hex digits.
    public let digest: String
    public let size: Int64
    public let mediaType: String
    public let content: Content

    public init(digest: String, size: Int64, mediaType: String, content: Content) {
        self.digest = digest
        self.size = size
        self.mediaType = mediaType
        self.content = content
    }

    /// A blob held in memory, its digest and size computed here.
    public init(data: Data, mediaType: String) {
        self.init(digest: OCIDigest.sha256(data), size: Int64(data.count), mediaType: mediaType, content: .data(data))
    }

    public func bytes() throws -> Data {
        switch content {
        case .data(let d): return d
        case .file(let url):
            do { return try Data(contentsOf: url) } catch {
                throw ImageError(.io, "cannot read blob \(digest) from \(url.path): \(error.localizedDescription)")
            }
        }
    }

    /// The hex part of the digest: the blob's file name under blobs/sha256/.
    public var hex: String { String(digest.dropFirst("sha256:".count)) }
}

/// A single-platform OCI image: what a registry push or an OCI layout needs.
public struct OCIImage: Sendable, Equatable {
    public let manifest: Data
    public let manifestDigest: String
    public let config: Data
    public let configDigest: String
    public let layers: [Blob]

    public init(manifest: Data, manifestDigest: String, config: Data, configDigest: String, layers: [Blob]) {
        self.manifest = manifest
        self.manifestDigest = manifestDigest
        self.config = config
        self.configDigest = configDigest
        self.layers = layers
    }

    public var manifestBlob: Blob { Blob(data: manifest, mediaType: OCIMediaType.manifest) }
    public var configBlob: Blob { Blob(data: config, mediaType: OCIMediaType.config) }

    /// Compressed size of everything a registry stores for this image.
    public var compressedSize: Int64 { Int64(manifest.count) + Int64(config.count) + layers.reduce(0) { $0 + $1.size } }
}

public enum OCIMediaType {
    public static let manifest = "application/vnd.oci.image.manifest.v1+json"
    public static let index = "application/vnd.oci.image.index.v1+json"
    public static let config = "application/vnd.oci.image.config.v1+json"
    public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
}

public enum OCIDigest {
    public static func sha256(_ data: Data) -> String {
        "sha256:" + SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
