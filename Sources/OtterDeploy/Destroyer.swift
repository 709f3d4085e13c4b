import Foundation
import OtterAWS
import OtterLocalState

/// What `otter destroy` was asked to do.
public struct DestroyRequest: Sendable {
    public var stack: String
    public var dataDirectory: String
    public var pollSeconds: Double
    public var attempts: Int

    public init(stack: String, dataDirectory: String, pollSeconds: Double = 3, attempts: Int = 3) {
        self.stack = stack
        self.dataDirectory = dataDirectory
        self.pollSeconds = pollSeconds
        self.attempts = attempts
    }
}

/// `otter destroy`: empties the buckets the stack owns, deletes the stack
/// (retrying a DELETE_FAILED), then the artifacts bucket and the relay image
/// repository, then local state.
/// Safe to run again at any point, and on a stack that is already gone.
public struct Destroyer: Sendable {
    let client: AWSClient
    let console: Console
    let request: DestroyRequest

    public init(client: AWSClient, console: Console, request: DestroyRequest) {
        self.client = client
        self.console = console
        self.request = request
    }

    var cfn: CloudFormation { CloudFormation(client: client) }
    var s3: S3 { S3(client: client) }
    var stackName: String { request.stack }

    /// What `run` ended with.
    public enum Outcome: Sendable, Equatable {
        /// The stack was deleted (with its buckets and the local state).
        case destroyed
        /// The stack was gone already; what it left (local state, artifacts bucket) was removed.
        case leftoversRemoved
    }

    /// Refuses, before anything is asked or removed, a stack that exists nowhere
    /// (no stack, no local state, no artifacts bucket) and local state written
    /// for another account or region.
    public func check(identity: STS.CallerIdentity) async throws {
        let region = client.configuration.region
        let state = DeployState.load(dataDirectory: request.dataDirectory, stack: stackName)
        if let state, state.account != identity.account || state.region != region {
            throw DeployError(.notFound, """
                the local state \(LocalState(directory: request.dataDirectory).deployRecord(stack: stackName)) is for account \(state.account), \
                region \(state.region), but these credentials are for account \(identity.account), region \(region). \
                Run again with --region \(state.region)\(state.account != identity.account ? " and credentials for account \(state.account)" : ""). Nothing was removed.
                """)
        }
        guard try await cfn.describeStack(name: stackName) == nil, state == nil else { return }
        if try await s3.headBucket(artifactsBucket(state: nil, identity: identity)) { return }
        if try await ECR(client: client).describeRepository(name: RelayRepository.name(stack: stackName)) != nil { return }
        var message = "no stack named \(stackName) exists in account \(identity.account), region \(region), and there is no local state for it in \(request.dataDirectory): nothing was removed."
        let others = DeployState.all(dataDirectory: request.dataDirectory)
        if !others.isEmpty {
            message += " Local state exists for: " + others.map { "\($0.stack) (\($0.region))" }.joined(separator: ", ") + " (choose one with --stack and --region)."
        } else {
            message += " Check --stack, --region and --profile."
        }
        throw DeployError(.notFound, message)
    }

    func artifactsBucket(state: DeployState?, identity: STS.CallerIdentity) -> String {
        state?.artifactsBucket ?? ArtifactsBucket.name(stack: stackName, account: identity.account, region: client.configuration.region)
    }

    @discardableResult
    public func run(identity: STS.CallerIdentity) async throws -> Outcome {
        try await check(identity: identity)
        let watcher = StackWatcher(cfn: cfn, console: console, pollSeconds: request.pollSeconds)
        let advice = "Interrupted. CloudFormation goes on deleting in AWS; run `otter destroy` again to finish (it removes the artifacts bucket and the local state)."
        var attempt = 0
        while let stack = try await cfn.describeStack(name: stackName) {
            attempt += 1
            if stack.status.hasSuffix("_IN_PROGRESS"), stack.status != "DELETE_IN_PROGRESS", stack.status != "REVIEW_IN_PROGRESS" {
                console.say("Stack \(stackName) is busy (\(stack.status)); waiting for it before deleting…")
                _ = try await watcher.follow(stack: stackName, known: try await watcher.knownEvents(stack: stackName), total: nil, advice: advice,
                                             phase: "Waiting for \(stackName)")
                continue
            }
            guard attempt <= request.attempts else {
                throw DeployError(.stackFailed, "stack \(stackName) is still \(stack.status) after \(request.attempts) attempts. See the reasons above, fix them (for example, delete a resource by hand in the console) and run `otter destroy` again.")
            }
            for bucket in ownedBuckets(stack) { try await empty(bucket) }
            let known = try await watcher.knownEvents(stack: stackName)
            if stack.status != "DELETE_IN_PROGRESS" {
                console.say(attempt == 1 ? "Deleting stack \(stackName)…" : "Retrying the deletion of \(stackName) (attempt \(attempt))…")
                try await cfn.deleteStack(name: stackName)
            }
            let outcome = try await watcher.follow(stack: stack.stackID, known: known, total: nil, advice: advice,
                                                   phase: "Deleting \(stackName)")
            let status = outcome.stack?.status ?? "DELETE_COMPLETE"
            if status == "DELETE_COMPLETE" { break }
            if let f = outcome.firstFailure {
                console.say("Blocked by \(f.logicalID) (\(f.resourceType)): \(f.reason ?? "no reason given")")
            } else {
                console.say("Stack \(stackName) is \(status)\(outcome.stack?.statusReason.map { ": \($0)" } ?? "")")
            }
        }
        console.say(attempt == 0
            ? "Stack \(stackName) does not exist in account \(identity.account), region \(client.configuration.region) (already deleted); removing what it left."
            : "Stack \(stackName) deleted.")

        let state = DeployState.load(dataDirectory: request.dataDirectory, stack: stackName)
        let artifacts = artifactsBucket(state: state, identity: identity)
        if try await s3.headBucket(artifacts) {
            let tags = try await s3.getBucketTagging(artifacts)
            if tags[StackTags.stackKey] == stackName {
                try await empty(artifacts)
                try await s3.deleteBucket(artifacts)
                console.say("Artifacts bucket \(artifacts) deleted.")
            } else {
                console.say("Left the bucket \(artifacts) alone: it is not tagged \(StackTags.stackKey)=\(stackName).")
            }
        }
        // After the stack: its task definition no longer names the image.
        try await RelayRepository(stack: stackName, ecr: ECR(client: client)).remove(stack: stackName, console: console)
        let folder = LocalState(directory: request.dataDirectory)
        if state != nil || folder.loadAPIKey(for: .stack(stackName)) != nil {
            folder.removeDeploy(stack: stackName)
            console.say("Local state removed (\(folder.deployRecord(stack: stackName))).")
        }
        return attempt == 0 ? .leftoversRemoved : .destroyed
    }

    /// Buckets the stack created; CloudFormation cannot delete a bucket that still has objects.
    func ownedBuckets(_ stack: CloudFormation.Stack) -> [String] {
        [stack.outputs["SiteBucket"]].compactMap { $0 }
    }

    /// Removes every object version and delete marker, after checking the bucket is this stack's.
    func empty(_ bucket: String) async throws {
        guard try await s3.headBucket(bucket) else { return }
        let tags = try await s3.getBucketTagging(bucket)
        guard tags[StackTags.stackKey] == stackName else {
            console.say("Not emptying \(bucket): it is not tagged \(StackTags.stackKey)=\(stackName).")
            return
        }
        let versions = try await s3.listObjectVersions(bucket: bucket)
        guard !versions.isEmpty else { return }
        try await s3.deleteObjects(bucket: bucket, versions)
        console.say("Emptied \(bucket) (\(versions.count) object versions).")
    }
}
