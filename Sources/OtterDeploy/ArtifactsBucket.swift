import Crypto
import Foundation
import OtterAWS

/// The bucket for handler zips and templates: one per stack, account and
/// region, created by `otter deploy` with an `otter:stack` tag and deleted by
/// `otter destroy` (no bootstrap stack left behind).
public struct ArtifactsBucket: Sendable {
    public let name: String
    let s3: S3

    public init(stack: String, account: String, region: String, s3: S3) {
        self.name = Self.name(stack: stack, account: account, region: region)
        self.s3 = s3
    }

    /// S3 names are global, lower-case, at most 63 characters. A stack name that
    /// fits as it is keeps the plain name (buckets of existing stacks stay found);
    /// one that must be cut or lower-cased gets a digest of the whole name, so
    /// two long names sharing a prefix, or `Otter` and `otter`, never share a bucket.
    static func name(stack: String, account: String, region: String) -> String {
        let base = "otter-\(account)-\(region)-"
        let room = 63 - base.count
        if stack == stack.lowercased(), stack.count <= room, !stack.hasSuffix("-") { return base + stack }
        let digest = SHA256.hash(data: Array(stack.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
        var s = String(stack.lowercased().prefix(max(room - digest.count - 1, 1)))
        while s.hasSuffix("-") { s.removeLast() }
        return base + s + "-" + digest
    }

    /// Creates the bucket (tagged) unless it exists and carries our tag.
    public func ensure(stack: String) async throws -> Bool {
        if try await s3.headBucket(name) {
            let tags = try await s3.getBucketTagging(name)
            guard tags[StackTags.stackKey] == stack else {
                throw DeployError(.bucketTaken, "the bucket \(name) exists but is not tagged \(StackTags.stackKey)=\(stack); Otter will not write to a bucket it did not create. It is another stack's or someone else's: choose another --stack name.")
            }
            return false
        }
        try await s3.createBucket(name)
        try await s3.putBucketTagging(name, tags: [StackTags.stackKey: stack, StackTags.roleKey: "artifacts"])
        return true
    }

    public func upload(key: String, bytes: [UInt8], contentType: String) async throws -> Bool {
        if try await s3.objectExists(bucket: name, key: key) { return false }
        try await s3.putObject(bucket: name, key: key, body: bytes, contentType: contentType)
        return true
    }

    /// The URL form CloudFormation (and moto) read a template from.
    public func templateURL(key: String, region: String) -> String {
        "https://\(name).s3.\(region).amazonaws.com/\(key)"
    }
}

enum StackTags {
    static let stackKey = "otter:stack"
    static let roleKey = "otter:role"
}
