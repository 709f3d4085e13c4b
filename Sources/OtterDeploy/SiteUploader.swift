import Crypto
import Foundation
import OtterAWS

/// Puts the web app and its `config.js` in the site bucket. Uploads only
/// files whose bytes changed (S3's ETag is the MD5 of a single-part object)
/// and removes files the web app no longer has.
public struct SiteUploader: Sendable {
    let s3: S3
    let bucket: String

    public struct File: Sendable, Equatable {
        public var key: String
        public var bytes: [UInt8]
        public var contentType: String
        public var cacheControl: String
    }

    /// The web app files plus the generated config.js, with their headers.
    public static func files(webAppDirectory dir: String, configJS: String) throws -> [File] {
        let root = URL(fileURLWithPath: dir)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw DeployError(.missingFiles, "cannot read the web app in \(dir)")
        }
        var files: [File] = []
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let key = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
            if key == "README.md" || key == "config.js" || key.hasPrefix(".") { continue }
            files.append(File(key: key, bytes: [UInt8](try Data(contentsOf: url)), contentType: contentType(key),
                              cacheControl: cacheControl(key)))
        }
        guard files.contains(where: { $0.key == "index.html" }) else {
            throw DeployError(.missingFiles, "\(dir) has no index.html: is this the Templates/webapp folder?")
        }
        files.append(File(key: "config.js", bytes: Array(configJS.utf8), contentType: contentType("config.js"),
                          cacheControl: cacheControl("config.js")))
        return files.sorted { $0.key < $1.key }
    }

    /// `window.OTTER_CONFIG` with public endpoints only (DESIGN.md).
    public static func configJS(apiURL: String, signalURL: String, stunURLs: [String]) -> String {
        let object: [String: Any] = ["apiUrl": apiURL, "signalUrl": signalURL, "iceServersPath": "/rooms/{roomId}/ice-servers",
                                     "stunUrls": stunURLs]
        let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return "window.OTTER_CONFIG = \(String(decoding: json, as: UTF8.self));\n"
    }

    static func contentType(_ key: String) -> String {
        switch (key as NSString).pathExtension.lowercased() {
        case "html": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "json": return "application/json"
        case "ts": return "text/plain; charset=utf-8"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "webmanifest": return "application/manifest+json"
        default: return "application/octet-stream"
        }
    }

    /// index.html and config.js must never be stale; the rest may be cached
    /// briefly (their names carry no hash, so not for long).
    static func cacheControl(_ key: String) -> String {
        key == "index.html" || key == "config.js" ? "no-cache" : "public, max-age=300"
    }

    /// Returns the keys it uploaded or removed.
    public func sync(_ files: [File]) async throws -> (uploaded: [String], removed: [String]) {
        let existing = Dictionary(try await s3.listObjectsV2(bucket: bucket).map { ($0.key, $0.etag) }, uniquingKeysWith: { a, _ in a })
        var uploaded: [String] = []
        for file in files {
            let md5 = Insecure.MD5.hash(data: file.bytes).map { String(format: "%02x", $0) }.joined()
            if existing[file.key]?.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) == md5 { continue }
            try await s3.putObject(bucket: bucket, key: file.key, body: file.bytes, contentType: file.contentType,
                                   cacheControl: file.cacheControl)
            uploaded.append(file.key)
        }
        let keep = Set(files.map(\.key))
        let stale = existing.keys.filter { !keep.contains($0) }.sorted()
        if !stale.isEmpty {
            try await s3.deleteObjects(bucket: bucket, stale.map { S3.ObjectVersion(key: $0, versionID: nil, isDeleteMarker: false) })
        }
        return (uploaded, stale)
    }
}
