import Foundation
import OtterAWS
import OtterCore
import OtterImage
import OtterLocalState
import OtterStacks

/// What `otter deploy` was asked to do.
public struct DeployRequest: Sendable {
    public var stack: OtterStackOptions
    public var yes: Bool
    public var interactive: Bool
    public var dataDirectory: String
    public var lambdaDirectory: String
    public var webAppDirectory: String
    public var pollSeconds: Double
    /// Where the relay image comes from; `.given(stack.relayImage)` unless the CLI decides otherwise.
    public var relayImage: RelayImageSource
    /// See `RelayImagePublisher.registryOverrideVariable`.
    public var registryOverride: URL?

    /// Templates/limits.json, beside the handlers' folder: the zip carries it.
    public var limitsFile: String {
        URL(fileURLWithPath: lambdaDirectory).deletingLastPathComponent().appendingPathComponent("limits.json").path
    }

    public init(stack: OtterStackOptions, yes: Bool, interactive: Bool, dataDirectory: String,
                lambdaDirectory: String, webAppDirectory: String, pollSeconds: Double = 3,
                relayImage: RelayImageSource? = nil, registryOverride: URL? = nil) {
        self.stack = stack
        self.yes = yes
        self.interactive = interactive
        self.dataDirectory = dataDirectory
        self.lambdaDirectory = lambdaDirectory
        self.webAppDirectory = webAppDirectory
        self.pollSeconds = pollSeconds
        self.relayImage = relayImage ?? .given(stack.relayImage)
        self.registryOverride = registryOverride
    }
}

/// What a deploy ended with, for the summary and `--json`.
public struct DeployResult: Sendable, Codable {
    public var stack: String
    public var account: String
    public var region: String
    public var status: String
    public var upToDate: Bool
    public var apiUrl: String?
    public var signalUrl: String?
    public var webAppUrl: String?
    /// Only on the deploy that created it: it is shown once.
    public var apiKey: String?
    public var apiKeyFile: String?
    public var sampleRoomUrl: String?
    /// ICE URLs of the relay (the `TurnUrls` output, or built from `RelayHost`).
    public var turnUrls: [String]?
    /// The relay quotas in the template metadata (relayUserQuota, relayTotalQuota, relayMaxBps), those set.
    public var relayQuotas: [String: Int]?
    /// Set when the relay offers no `turns:` URL: how to get TURN over TLS.
    public var turnTlsHint: String?
    /// The image the relay tasks run (by digest when deploy pushed it).
    public var relayImage: String?
}

/// `otter deploy`: package, upload, change set, execute, follow, then the
/// API key, the web app and the local state.
public struct Deployer: Sendable {
    let client: AWSClient
    let console: Console
    let request: DeployRequest

    public init(client: AWSClient, console: Console, request: DeployRequest) {
        self.client = client
        self.console = console
        self.request = request
    }

    var stackName: String { request.stack.stackName }
    var cfn: CloudFormation { CloudFormation(client: client) }

    public func run() async throws -> DeployResult {
        // Asked before anything exists: refusing after the bucket, the upload and
        // the state file were made would leave them behind for nothing.
        guard request.yes || request.interactive else {
            throw DeployError(.notConfirmed, "standard input is not a terminal, so nobody can confirm the changes. Run again with --yes to deploy without asking. Nothing was created or changed.")
        }
        let identity = try await Identity.check(client: client, console: console)
        let region = client.configuration.region

        // 1. Package and upload what the template points at.
        let handlers = try HandlerPackage.build(directory: request.lambdaDirectory, shared: [request.limitsFile])
        var options = request.stack
        _ = try OtterStack.template(options)  // bad options fail before anything is created
        let bucket = ArtifactsBucket(stack: stackName, account: identity.account, region: region, s3: S3(client: client))
        let created = try await bucket.ensure(stack: stackName)
        console.say("Artifacts: s3://\(bucket.name)\(created ? " (created)" : "")")
        var state = DeployState.load(dataDirectory: request.dataDirectory, stack: stackName)
            ?? DeployState(stack: stackName, region: region, account: identity.account, stackID: nil, status: "DEPLOYING",
                           artifactsBucket: bucket.name)
        // Saved before anything else is created, so `otter destroy` can always clean up.
        try state.save(dataDirectory: request.dataDirectory)
        let zipNew = try await bucket.upload(key: handlers.key, bytes: handlers.bytes, contentType: "application/zip")
        console.say("Handlers:  \(handlers.key) (\(handlers.files.count) files, \(handlers.bytes.count / 1024) KiB, \(zipNew ? "uploaded" : "unchanged"))")
        // The relay image: pushed before the stack that runs it; the template pins its digest.
        switch request.relayImage {
        case .given(let image):
            options.relayImage = image
        case .pinned(let image, let reason):
            options.relayImage = image
            console.say("Relay image: \(image) (\(reason))")
        case .build(let binary):
            options.relayImage = try await RelayImagePublisher(client: client, console: console, stack: stackName, binary: binary,
                                                               registryOverride: request.registryOverride,
                                                               cache: RelayImageCache.defaultDirectory()).publish()
            options.relayImageIsOtter = true
        }
        let stackTemplate = try OtterStack.template(options)
        let template = stackTemplate.json.renderedBytes()
        let templateKey = "templates/\(ArtifactsHash.hex(template)).json"
        _ = try await bucket.upload(key: templateKey, bytes: template, contentType: "application/json")

        // 2. The stack: create or update through a change set, once the roles its services assume exist.
        try await ServiceLinkedRoles.ensure(iam: IAM(client: client), console: console)
        let stackStatus = try await prepareStack()
        let isCreate = stackStatus == nil || stackStatus == "REVIEW_IN_PROGRESS"
        console.say(isCreate ? "Stack \(stackName): creating" : "Stack \(stackName): \(stackStatus!), checking for changes")
        let review = ChangeSetReview(cfn: cfn, console: console, pollSeconds: request.pollSeconds)
        let parameters = [
            "ArtifactsBucket": bucket.name, "HandlersKey": handlers.key, "MaxPeers": String(request.stack.maxPeers),
            "RelayImage": options.relayImage, "RelayMinTasks": String(request.stack.relayMinTasks),
            "RelayMaxTasks": String(request.stack.relayMaxTasks),
        ]
        let result = try await review.create(stack: stackName, template: .url(bucket.templateURL(key: templateKey, region: region)),
                                             parameters: parameters, tags: [StackTags.stackKey: stackName], isCreate: isCreate)
        var upToDate = false
        switch result {
        case .upToDate:
            upToDate = true
            console.say("Stack \(stackName) is up to date: no change set executed.")
        case .ready(let name, let changes):
            review.show(changes, all: !request.yes)
            try await confirm(changeSet: name, isCreate: isCreate)
            try await execute(changeSet: name, total: changes.isEmpty ? nil : changes.count, isCreate: isCreate)
        }

        // 3. After the stack: key, web app, state.
        guard let stack = try await cfn.describeStack(name: stackName) else {
            throw DeployError(.stackFailed, "the stack \(stackName) disappeared during the deploy")
        }
        let outputs = stack.outputs
        var summary = DeployResult(stack: stackName, account: identity.account, region: region, status: stack.status, upToDate: upToDate,
                                   apiUrl: outputs["ApiUrl"], signalUrl: outputs["SignalUrl"], webAppUrl: outputs["WebAppUrl"])
        let relay = RelaySummary(outputs: outputs, metadata: stackTemplate.metadata["Otter"])
        summary.turnUrls = relay.turnUrls.isEmpty ? nil : relay.turnUrls
        summary.relayQuotas = relay.quotas.isEmpty ? nil : relay.quotas
        summary.turnTlsHint = relay.tlsAdvice
        summary.relayImage = options.relayImage
        state = DeployState(stack: stackName, region: region, account: identity.account, stackID: stack.stackID, status: stack.status,
                            apiURL: outputs["ApiUrl"], signalURL: outputs["SignalUrl"], webAppURL: outputs["WebAppUrl"],
                            artifactsBucket: bucket.name)
        try state.save(dataDirectory: request.dataDirectory)

        let keys = APIKeyProvisioner(dynamo: DynamoDB(client: client), console: console)
        let folder = LocalState(directory: request.dataDirectory)
        if let table = outputs["ConfigTable"] {
            if let key = try await keys.ensure(table: table) {
                do { try folder.saveAPIKey(key, for: .stack(stackName)) } catch { throw DeployError(.missingFiles, error.message) }
                summary.apiKey = key
                upToDate = false
            }
        }
        let savedKey = folder.loadAPIKey(for: .stack(stackName))
        if savedKey != nil {
            summary.apiKeyFile = folder.apiKey(for: .stack(stackName))
        }
        let changedSite = try await publishWebApp(outputs: outputs)
        summary.upToDate = upToDate && !changedSite
        summary.sampleRoomUrl = await SampleRoom.create(apiURL: outputs["ApiUrl"], key: savedKey, console: console, stack: stackName)
        return summary
    }

    /// The current status, after waiting out a running operation and removing
    /// a stack whose creation failed (it can only be deleted).
    func prepareStack() async throws -> String? {
        let watcher = StackWatcher(cfn: cfn, console: console, pollSeconds: request.pollSeconds)
        for _ in 0..<3 {
            guard let stack = try await cfn.describeStack(name: stackName) else { return nil }
            switch stack.status {
            case let s where s.hasSuffix("_IN_PROGRESS") && s != "REVIEW_IN_PROGRESS":
                console.say("Stack \(stackName) is busy (\(s)); waiting for it to finish…")
                _ = try await watcher.follow(stack: stackName, known: try await watcher.knownEvents(stack: stackName), total: nil,
                                             advice: "Interrupted while waiting; nothing was changed by this run. Run `otter deploy` again.",
                                             phase: "Waiting for \(stackName)")
            case "ROLLBACK_COMPLETE", "ROLLBACK_FAILED":
                console.say("Stack \(stackName) is \(stack.status) (its creation failed earlier); deleting it before creating it again…")
                let known = try await watcher.knownEvents(stack: stackName)
                try await cfn.deleteStack(name: stackName)
                let outcome = try await watcher.follow(stack: stack.stackID, known: known, total: nil,
                                                       advice: "Interrupted; the failed stack is being deleted. Run `otter deploy` again.",
                                                       phase: "Deleting the failed \(stackName)")
                if let s = outcome.stack, s.status != "DELETE_COMPLETE" {
                    throw DeployError(.stackFailed, "could not delete the failed stack \(stackName) (\(s.status)). Run `otter destroy` and then `otter deploy`.")
                }
            case "DELETE_FAILED":
                throw DeployError(.stackFailed, "stack \(stackName) is DELETE_FAILED: run `otter destroy` to finish removing it, then deploy again.")
            default:
                return stack.status
            }
        }
        throw DeployError(.stackBusy, "stack \(stackName) stays busy; try again in a few minutes")
    }

    func confirm(changeSet: String, isCreate: Bool) async throws {
        if request.yes { return }
        guard request.interactive else {
            try await abandon(changeSet: changeSet, isCreate: isCreate)
            throw DeployError(.notConfirmed, "standard input is not a terminal, so nobody can confirm these changes. Review them above and run again with --yes. Nothing was changed.")
        }
        FileHandle.standardError.write(Data("Deploy these changes to \(stackName)? [y/N] ".utf8))
        let answer = Interrupts.shared.during({ readLine() }, onInterrupt: {
            // Ctrl-C at the prompt: same as "no", then quit (the prompt itself cannot be woken).
            Task {
                try? await self.abandon(changeSet: changeSet, isCreate: isCreate)
                FileHandle.standardError.write(Data("\nCancelled: the change set was deleted; nothing was changed.\n".utf8))
                exit(130)
            }
        })?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard answer == "y" || answer == "yes" else {
            try await abandon(changeSet: changeSet, isCreate: isCreate)
            throw DeployError(.notConfirmed, "not deployed: the change set was deleted and nothing was changed.")
        }
    }

    /// Removes an unexecuted change set, and the empty stack a CREATE change set leaves.
    func abandon(changeSet: String, isCreate: Bool) async throws {
        try? await cfn.deleteChangeSet(stackName: stackName, changeSetName: changeSet)
        if isCreate, let s = try? await cfn.describeStack(name: stackName), s.status == "REVIEW_IN_PROGRESS" {
            try? await cfn.deleteStack(name: stackName)
        }
    }

    func execute(changeSet: String, total: Int?, isCreate: Bool) async throws {
        let watcher = StackWatcher(cfn: cfn, console: console, pollSeconds: request.pollSeconds)
        try Interrupts.shared.check("Interrupted before the change set ran; nothing was changed. Run `otter deploy` again.")
        let known = try await watcher.knownEvents(stack: stackName)
        var refused: AWSError?
        do {
            try await cfn.executeChangeSet(stackName: stackName, changeSetName: changeSet)
        } catch let e as AWSError {
            refused = e
        }
        let advice = """
            Interrupted. CloudFormation goes on with the change in AWS; nothing is lost. \
            Run `otter deploy` again to wait for it and finish the deploy, or `otter destroy` to remove everything.
            """
        let outcome = try await watcher.follow(stack: stackName, known: known, total: total, advice: advice,
                                               phase: "\(isCreate ? "Creating" : "Updating") \(stackName)")
        let status = outcome.stack?.status ?? "DELETED"
        if status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE", refused == nil { return }
        var message = "deploy of stack \(stackName) failed (\(status))."
        if let f = outcome.firstFailure {
            message += "\nFailed resource: \(f.logicalID) (\(f.resourceType)): \(f.reason ?? "no reason given")"
        } else if let refused {
            message += "\nCloudFormation refused to run the change set: \(refused)"
        } else if let reason = outcome.stack?.statusReason {
            message += "\nReason: \(reason)"
        }
        message += isCreate
            ? "\nThe stack rolled back. Fix the cause and run `otter deploy` again (it deletes the failed stack first), or `otter destroy`."
            : "\nThe stack was rolled back to its previous state and keeps working. Fix the cause and run `otter deploy` again."
        throw DeployError(.stackFailed, message)
    }

    /// Uploads the web app with a fresh config.js; invalidates CloudFront when anything changed.
    func publishWebApp(outputs: [String: String]) async throws -> Bool {
        guard let bucket = outputs["SiteBucket"], let api = outputs["ApiUrl"], let signal = outputs["SignalUrl"] else {
            console.say("Web app: skipped (the stack has no SiteBucket/ApiUrl/SignalUrl outputs)")
            return false
        }
        let configJS = SiteUploader.configJS(apiURL: api, signalURL: signal, stunURLs: outputs["StunUrl"].map { [$0] } ?? [])
        let files = try SiteUploader.files(webAppDirectory: request.webAppDirectory, configJS: configJS)
        let (uploaded, removed) = try await SiteUploader(s3: S3(client: client), bucket: bucket).sync(files)
        guard !uploaded.isEmpty || !removed.isEmpty else {
            console.say("Web app: \(files.count) files, unchanged")
            return false
        }
        console.say("Web app: \(uploaded.count) of \(files.count) files uploaded\(removed.isEmpty ? "" : ", \(removed.count) removed")")
        if let distribution = outputs["DistributionId"] {
            let id = try await CloudFront(client: client).createInvalidation(distributionID: distribution, paths: ["/*"])
            console.say("CloudFront: invalidation \(id) started for \(distribution)")
        }
        return true
    }
}
