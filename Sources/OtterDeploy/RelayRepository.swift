import Crypto
import Foundation
import OtterAWS

/// The ECR repository for the relay image `otter deploy` builds: one per stack, account and
/// region, like the artifacts bucket: created (tagged) before the stack, and deleted with
/// every image in it by `otter destroy` (only when it carries the stack's tag).
public struct RelayRepository: Sendable {
    public let name: String
    let ecr: ECR

    public init(stack: String, ecr: ECR) {
        self.name = Self.name(stack: stack)
        self.ecr = ecr
    }

    /// ECR names are lower case, 2-256 characters, components of `[a-z0-9]+([._-][a-z0-9]+)*`
    /// separated by `/` (no doubled or trailing separator). A stack name that already fits
    /// keeps its plain form; one that must be changed (upper case, `--`, a trailing `-`)
    /// gets a digest of the whole name, so `Otter` and `otter` never share a repository.
    /// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
    static func name(stack: String) -> String {
        if isComponent(stack) { return "otter/\(stack)/relay" }
        let digest = SHA256.hash(data: Array(stack.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
        var cleaned = ""
        for c in stack.lowercased() {
            if c == "-" && (cleaned.isEmpty || cleaned.hasSuffix("-")) { continue }
            cleaned.append(c)
        }
        while cleaned.hasSuffix("-") { cleaned.removeLast() }
        return "otter/\(cleaned.isEmpty ? digest : cleaned + "-" + digest)/relay"
    }

    /// One path component of an ECR repository name.
    static func isComponent(_ s: String) -> Bool {
        guard let first = s.first, let last = s.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var previousSeparator = false
        for c in s {
            if isLowerAlnum(c) { previousSeparator = false; continue }
            guard ".-_".contains(c), !previousSeparator else { return false }
            previousSeparator = true
        }
        return true
    }

    static func isLowerAlnum(_ c: Character) -> Bool { c.isASCII && (c.isNumber || c.isLowercase) }

    /// The repository, created with the stack's tags when missing. One that exists without
    /// the stack's tag is someone else's: refused, as the artifacts bucket is.
    public func ensure(stack: String) async throws -> (repository: ECR.Repository, created: Bool) {
        if let existing = try await ecr.describeRepository(name: name) {
            let tags = try await ecr.tags(repositoryARN: existing.arn)
            guard tags[StackTags.stackKey] == stack else {
                throw DeployError(.bucketTaken, "the ECR repository \(name) exists but is not tagged \(StackTags.stackKey)=\(stack); Otter will not push to a repository it did not create. Choose another --stack name, or pass --relay-image.")
            }
            return (existing, false)
        }
        let created = try await ecr.createRepository(name: name, tags: [StackTags.stackKey: stack, StackTags.roleKey: "relay-image"])
        return (created, true)
    }

    /// Deletes the repository and its images if it is this stack's; says what it did.
    public func remove(stack: String, console: Console) async throws {
        guard let existing = try await ecr.describeRepository(name: name) else { return }
        let tags = try await ecr.tags(repositoryARN: existing.arn)
        guard tags[StackTags.stackKey] == stack else {
            console.say("Left the ECR repository \(name) alone: it is not tagged \(StackTags.stackKey)=\(stack).")
            return
        }
        try await ecr.deleteRepository(name: name, force: true)
        console.say("Relay image repository \(name) deleted (with its images).")
    }

    /// The image tag a push gets: derived from the manifest digest, so it never moves and an
    /// immutable repository accepts it. ECR and the distribution spec allow
    /// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
    public static func tag(forManifest digest: String) -> String {
        "relay-" + String(digest.dropFirst("sha256:".count).prefix(16))
    }
}
