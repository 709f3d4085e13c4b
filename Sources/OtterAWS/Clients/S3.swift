import Crypto
import Foundation

/// The S3 calls deploy and destroy need (REST-XML; single-encoded, un-normalized paths).
public struct S3: Sendable {
    public struct Object: Sendable, Equatable {
        public var key: String
        public var size: Int
        public var etag: String
    }

    public struct ObjectVersion: Sendable, Equatable {
        public var key: String
        public var versionID: String?
        public var isDeleteMarker: Bool

        public init(key: String, versionID: String? = nil, isDeleteMarker: Bool = false) {
            self.key = key
            self.versionID = versionID
            self.isDeleteMarker = isDeleteMarker
        }
    }

    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    /// Path-style against custom endpoints (moto, MinIO); virtual-hosted on AWS.
    private func location(bucket: String, key: String = "") -> (host: String?, path: String) {
        let encodedKey = URIEncoding.encode(key, keepSlash: true)
        if client.configuration.hasEndpointOverride(for: .s3) {
            return (nil, "/\(bucket)" + (key.isEmpty ? "" : "/\(encodedKey)"))
        }
        let endpoint = client.configuration.endpoint(for: .s3).url
        return ("\(bucket).\(AWSClient.hostHeader(endpoint))", "/" + encodedKey)
    }

    private func send(bucket: String, key: String = "", method: String, query: String = "",
                      headers: [(String, String)] = [], body: [UInt8] = []) async throws -> HTTPResponse {
        let loc = location(bucket: bucket, key: key)
        return try await client.send(.s3, method: method, path: loc.path, query: query, headers: headers, body: body, host: loc.host)
    }

    // MARK: Buckets

    /// True when the bucket exists and is ours to use; false when it does not exist.
    public func headBucket(_ bucket: String) async throws -> Bool {
        do {
            _ = try await send(bucket: bucket, method: "HEAD")
            return true
        } catch let e as AWSError where e.statusCode == 404 {
            return false
        }
    }

    public func createBucket(_ bucket: String) async throws {
        let region = client.configuration.region
        let body = region == "us-east-1" ? "" :
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>"
        _ = try await send(bucket: bucket, method: "PUT", body: Array(body.utf8))
    }

    public func deleteBucket(_ bucket: String) async throws {
        _ = try await send(bucket: bucket, method: "DELETE")
    }

    public func putBucketTagging(_ bucket: String, tags: [String: String]) async throws {
        let items = tags.keys.sorted().map { "<Tag><Key>\(XMLNode.escape($0))</Key><Value>\(XMLNode.escape(tags[$0]!))</Value></Tag>" }.joined()
        let body = Array("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>\(items)</TagSet></Tagging>".utf8)
        _ = try await send(bucket: bucket, method: "PUT", query: "tagging=", headers: [("Content-MD5", Self.md5(body))], body: body)
    }

    public func getBucketTagging(_ bucket: String) async throws -> [String: String] {
        do {
            let r = try await send(bucket: bucket, method: "GET", query: "tagging=")
            let xml = try XMLNode.parse(r.body)
            var tags: [String: String] = [:]
            for t in xml["TagSet"]?.all("Tag") ?? [] { if let k = t.string("Key") { tags[k] = t.string("Value") ?? "" } }
            return tags
        } catch let e as AWSError where e.serviceCode == "NoSuchTagSet" {
            return [:]
        }
    }

    // MARK: Objects

    @discardableResult
    public func putObject(bucket: String, key: String, body: [UInt8], contentType: String? = nil,
                          cacheControl: String? = nil) async throws -> String {
        var headers: [(String, String)] = []
        if let c = contentType { headers.append(("Content-Type", c)) }
        if let c = cacheControl { headers.append(("Cache-Control", c)) }
        let r = try await send(bucket: bucket, key: key, method: "PUT", headers: headers, body: body)
        return r.header("ETag") ?? ""
    }

    /// True when the object exists (HEAD; a 404 is false).
    public func objectExists(bucket: String, key: String) async throws -> Bool {
        do {
            _ = try await send(bucket: bucket, key: key, method: "HEAD")
            return true
        } catch let e as AWSError where e.statusCode == 404 {
            return false
        }
    }

    public func getObject(bucket: String, key: String) async throws -> HTTPResponse {
        try await send(bucket: bucket, key: key, method: "GET")
    }

    /// Every object under `prefix`, following continuation tokens.
    public func listObjectsV2(bucket: String, prefix: String = "", pageSize: Int? = nil, maxPages: Int = 10_000) async throws -> [Object] {
        var objects: [Object] = []
        var token: String?
        for _ in 0..<maxPages {
            var q = [("list-type", "2")]
            if let n = pageSize { q.append(("max-keys", String(n))) }
            if !prefix.isEmpty { q.append(("prefix", prefix)) }
            if let t = token { q.append(("continuation-token", t)) }
            let xml = try XMLNode.parse(try await send(bucket: bucket, method: "GET", query: Self.query(q)).body)
            for c in xml.all("Contents") {
                objects.append(Object(key: c.string("Key") ?? "", size: Int(c.string("Size") ?? "") ?? 0, etag: c.string("ETag") ?? ""))
            }
            guard xml.string("IsTruncated") == "true", let next = xml.string("NextContinuationToken") else { break }
            token = next
        }
        return objects
    }

    /// Every version and delete marker, following key/version markers.
    public func listObjectVersions(bucket: String, pageSize: Int? = nil, maxPages: Int = 10_000) async throws -> [ObjectVersion] {
        var versions: [ObjectVersion] = []
        var keyMarker: String?
        var versionMarker: String?
        for _ in 0..<maxPages {
            var q = [("versions", "")]
            if let n = pageSize { q.append(("max-keys", String(n))) }
            if let k = keyMarker { q.append(("key-marker", k)) }
            if let v = versionMarker { q.append(("version-id-marker", v)) }
            let xml = try XMLNode.parse(try await send(bucket: bucket, method: "GET", query: Self.query(q)).body)
            for node in xml.children where node.name == "Version" || node.name == "DeleteMarker" {
                versions.append(ObjectVersion(key: node.string("Key") ?? "", versionID: node.string("VersionId"), isDeleteMarker: node.name == "DeleteMarker"))
            }
            guard xml.string("IsTruncated") == "true" else { break }
            keyMarker = xml.string("NextKeyMarker")
            versionMarker = xml.string("NextVersionIdMarker")
        }
        return versions
    }

    /// Deletes objects (and versions) in batches of 1,000, S3's limit per call.
    /// Throws the first per-key error S3 reports.
    public func deleteObjects(bucket: String, _ objects: [ObjectVersion], batchSize: Int = 1000) async throws {
        let size = max(1, min(batchSize, 1000))
        var start = 0
        while start < objects.count {
            let batch = objects[start..<min(start + size, objects.count)]
            start += size
            let items = batch.map { o -> String in
                let version = o.versionID.map { $0 == "null" ? "" : "<VersionId>\(XMLNode.escape($0))</VersionId>" } ?? ""
                return "<Object><Key>\(XMLNode.escape(o.key))</Key>\(version)</Object>"
            }.joined()
            let body = Array("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>\(items)</Delete>".utf8)
            let r = try await send(bucket: bucket, method: "POST", query: "delete=",
                                   headers: [("Content-Type", "application/xml"), ("Content-MD5", Self.md5(body))], body: body)
            if let err = try XMLNode.parse(r.body).all("Error").first {
                throw AWSError(.service, service: "S3", serviceCode: err.string("Code"),
                               message: "could not delete \(err.string("Key") ?? "an object"): \(err.string("Message") ?? "")")
            }
        }
    }

    static func md5(_ body: [UInt8]) -> String {
        Data(Insecure.MD5.hash(data: body)).base64EncodedString()
    }

    static func query(_ items: [(String, String)]) -> String {
        items.map { "\(URIEncoding.encode($0.0))=\(URIEncoding.encode($0.1))" }.joined(separator: "&")
    }
}
