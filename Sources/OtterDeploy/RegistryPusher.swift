import Foundation
import OtterAWS
import OtterImage

/// Pushes an OCI image with the registry HTTP API v2 (the OCI distribution spec), over
/// the same libcurl transport as the AWS calls: no Docker, no daemon.
///
/// Per blob: HEAD, and upload only what the registry lacks (POST opens an upload, then one
/// PUT with the whole blob, or for a large one PATCHes of `chunkSize` bytes and a closing
/// PUT, reporting progress after each). Then the manifest, unless the registry has it already.
/// https://github.com/opencontainers/distribution-spec/blob/main/spec.md
public struct RegistryPusher: Sendable {
    /// What one push did.
    public struct Outcome: Sendable, Equatable {
        /// `sha256:…` of the manifest: what a task definition pins.
        public var manifestDigest: String
        public var uploadedBlobs: Int
        public var uploadedBytes: Int64
        public var skippedBlobs: Int
        public var manifestPushed: Bool
        public var nothingPushed: Bool { uploadedBlobs == 0 && !manifestPushed }
    }

    public struct Progress: Sendable, Equatable {
        public var digest: String
        public var sent: Int64
        public var total: Int64
    }

    /// `http(s)://host[:port]`, no trailing slash.
    public let registry: URL
    public let repository: String
    /// `Authorization` header value (`Basic <ECR token>`), nil for an open registry.
    public let authorization: String?
    public let transport: any HTTPTransport
    /// Blobs above this go up in PATCHes of this size. ECR takes parts of at least 5 MiB
    /// (all but the last): https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_UploadLayerPart.html
    public let chunkSize: Int

    public init(registry: URL, repository: String, authorization: String?,
                transport: any HTTPTransport = CurlTransport(timeouts: .init(connect: .seconds(10), total: .seconds(300))),
                chunkSize: Int = 8 << 20) {
        self.registry = registry
        self.repository = repository
        self.authorization = authorization
        self.transport = transport
        self.chunkSize = max(chunkSize, 1)
    }

    /// Pushes `image` and tags it `tag`; returns the manifest digest the registry confirmed.
    public func push(_ image: OCIImage, tag: String,
                     progress: @Sendable (Progress) -> Void = { _ in }) async throws -> Outcome {
        var outcome = Outcome(manifestDigest: image.manifestDigest, uploadedBlobs: 0, uploadedBytes: 0, skippedBlobs: 0,
                              manifestPushed: false)
        for blob in [image.configBlob] + image.layers {
            if try await exists(blob.digest, kind: "blobs", accept: nil) {
                outcome.skippedBlobs += 1
                continue
            }
            try await upload(blob, progress: progress)
            outcome.uploadedBlobs += 1
            outcome.uploadedBytes += blob.size
        }
        if try await exists(image.manifestDigest, kind: "manifests", accept: OCIMediaType.manifest) { return outcome }
        let r = try await send("PUT", url(path: "manifests/\(tag)"), headers: [("Content-Type", OCIMediaType.manifest)],
                               body: Array(image.manifest))
        guard r.status == 201 || r.status == 200 else { throw failure("PUT manifest \(tag)", r) }
        if let confirmed = r.header("Docker-Content-Digest"), confirmed != image.manifestDigest {
            throw ImagePushError(.digestMismatch, "the registry stored the manifest as \(confirmed), not \(image.manifestDigest)")
        }
        outcome.manifestPushed = true
        return outcome
    }

    func exists(_ digest: String, kind: String, accept: String?) async throws -> Bool {
        let r = try await send("HEAD", url(path: "\(kind)/\(digest)"), headers: accept.map { [("Accept", $0)] } ?? [])
        switch r.status {
        // ECR may answer a blob HEAD with a redirect to its storage: the blob is there.
        case 200, 302, 307: return true
        case 404: return false
        default: throw failure("HEAD \(kind)/\(digest)", r)
        }
    }

    func upload(_ blob: Blob, progress: @Sendable (Progress) -> Void) async throws {
        let bytes = try blob.bytes()
        let opened = try await send("POST", url(path: "blobs/uploads/"))
        guard opened.status == 202, var location = try self.location(opened) else { throw failure("POST blobs/uploads", opened) }
        var offset = 0
        if bytes.count > chunkSize {
            // All but the closing PUT's part go as PATCHes; the PUT carries the rest.
            while bytes.count - offset > chunkSize {
                let end = offset + chunkSize
                let r = try await send("PATCH", location, headers: [
                    ("Content-Type", "application/octet-stream"), ("Content-Range", "\(offset)-\(end - 1)"),
                ], body: Array(bytes[offset..<end]))
                guard r.status == 202, let next = try self.location(r) else { throw failure("PATCH \(blob.digest)", r) }
                location = next
                offset = end
                progress(Progress(digest: blob.digest, sent: Int64(offset), total: blob.size))
            }
        }
        let done = try await send("PUT", Self.adding(digest: blob.digest, to: location),
                                  headers: [("Content-Type", "application/octet-stream")], body: Array(bytes[offset...]))
        guard done.status == 201 else { throw failure("PUT \(blob.digest)", done) }
        progress(Progress(digest: blob.digest, sent: blob.size, total: blob.size))
    }

    func url(path: String) -> URL {
        registry.appendingPathComponent("v2").appendingPathComponent(repository).appendingPathComponent(path)
    }

    /// `Location` may be absolute or relative to the registry (both are allowed).
    func location(_ r: HTTPResponse) throws -> URL? {
        guard let value = r.header("Location") else { return nil }
        return URL(string: value, relativeTo: registry)?.absoluteURL
    }

    /// The upload URL keeps its own query (the registry's state): the digest is added to it.
    static func adding(digest: String, to location: URL) -> URL {
        let encoded = digest.replacingOccurrences(of: ":", with: "%3A")
        let s = location.absoluteString
        return URL(string: s + (s.contains("?") ? "&" : "?") + "digest=" + encoded)!
    }

    func send(_ method: String, _ url: URL, headers: [(String, String)] = [], body: [UInt8] = []) async throws -> HTTPResponse {
        var all = headers
        if let authorization { all.append(("Authorization", authorization)) }
        do {
            return try await transport.send(HTTPRequest(method: method, url: url, headers: all, body: body))
        } catch let e as AWSError {
            throw ImagePushError(.transport, "\(method) \(url.host ?? registry.absoluteString): \(e.message)")
        }
    }

    func failure(_ what: String, _ r: HTTPResponse) -> ImagePushError {
        // Registries answer {"errors":[{"code":…,"message":…}]}.
        var detail = "HTTP \(r.status)"
        if let obj = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any],
           let first = (obj["errors"] as? [[String: Any]])?.first {
            detail += ": " + [first["code"] as? String, first["message"] as? String].compactMap { $0 }.joined(separator: ": ")
        }
        let code: ImagePushError.Code = r.status == 401 || r.status == 403 ? .denied : .refused
        return ImagePushError(code, "the registry \(registry.host ?? "") refused \(what) in \(repository): \(detail)")
    }
}

public struct ImagePushError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case transport, denied, refused, digestMismatch }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}
