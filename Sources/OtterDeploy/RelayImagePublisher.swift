import Foundation
import OtterAWS
import OtterImage
import OtterStacks

/// Where the relay's image comes from in a deploy.
public enum RelayImageSource: Sendable, Equatable {
    /// `--relay-image`: used as given.
    case given(String)
    /// Build it from this `otter` binary and push it to the stack's ECR repository.
    case build(binary: String)
    /// This host cannot build a linux/amd64 image of itself: the pinned coturn image, and why.
    case pinned(String, reason: String)
}

/// `otter deploy`'s relay image: built from the running binary (daemonless, OtterImage),
/// pushed to the stack's ECR repository with the registry API, and referenced by digest,
/// so the same binary gives the same task definition and a redeploy is "up to date".
struct RelayImagePublisher: Sendable {
    /// OTTER_REGISTRY_URL (e.g. http://127.0.0.1:5000) sends the registry calls there instead
    /// of ECR's proxy endpoint, as AWS_ENDPOINT_URL does for the API calls. For tests against
    /// a local registry (moto has no registry endpoint) and for registry mirrors; the image
    /// reference in the template still names the ECR repository.
    static let registryOverrideVariable = "OTTER_REGISTRY_URL"

    let client: AWSClient
    let console: Console
    let stack: String
    let binary: String
    let registryOverride: URL?
    /// Built images by input (RelayImageCache); nil builds every time.
    let cache: URL?

    /// The image reference for the task definition: `<repository URI>@sha256:<digest>`.
    func publish() async throws -> String {
        let repository = RelayRepository(stack: stack, ecr: ECR(client: client))
        let (repo, created) = try await repository.ensure(stack: stack)
        console.say("Relay image repository: \(repo.uri)\(created ? " (created)" : "")")

        let started = ContinuousClock.now
        console.progress("Building the relay image from \(binary)…")
        let built: (image: OCIImage, cached: Bool)
        do {
            let builder = RelayImageBuilder(binary: URL(fileURLWithPath: binary))
            // A cache that cannot be written (read-only home) costs time, not the deploy.
            if let cache, let hit = try? RelayImageCache(directory: cache).image(for: builder) {
                built = hit
            } else {
                built = (try builder.build(), false)
            }
        } catch let e as ImageError {
            throw DeployError(.relayImage, "could not build the relay image from \(binary): \(e.message). Pass --relay-image \(OtterStackOptions.defaultRelayImage) to deploy coturn's image instead.")
        }
        let (image, cached) = built
        let buildTime = ContinuousClock.now - started

        let auth = try await ECR(client: client).authorizationToken()
        guard let registry = registryOverride ?? URL(string: auth.proxyEndpoint) else {
            throw DeployError(.relayImage, "ECR gave the registry endpoint '\(auth.proxyEndpoint)', which is not a URL")
        }
        let pusher = RegistryPusher(registry: registry, repository: repo.name, authorization: "Basic \(auth.token)")
        let pushStarted = ContinuousClock.now
        let outcome: RegistryPusher.Outcome
        do {
            outcome = try await pusher.push(image, tag: RelayRepository.tag(forManifest: image.manifestDigest)) { p in
                let percent = p.total > 0 ? Int(p.sent * 100 / p.total) : 100
                console.progress("Pushing the relay image: \(Self.megabytes(p.sent)) of \(Self.megabytes(p.total)) MB (\(percent)%)")
            }
        } catch let e as ImagePushError {
            throw DeployError(.relayImage, "could not push the relay image to \(registry.host ?? registry.absoluteString)/\(repo.name): \(e.message). Nothing in the stack was changed; run `otter deploy` again.")
        }
        let reference = "\(repo.uri)@\(outcome.manifestDigest)"
        let timing = cached ? "same binary: cached image, \(Self.seconds(buildTime)) s" : "built in \(Self.seconds(buildTime)) s"
        // `say` also clears the live progress line.
        if outcome.nothingPushed {
            console.say("Relay image: \(reference) (\(timing); already in the registry, nothing pushed)")
        } else {
            console.say("Relay image: \(reference) (\(timing); pushed \(outcome.uploadedBlobs) blob(s), \(Self.megabytes(outcome.uploadedBytes)) MB, in \(Self.seconds(ContinuousClock.now - pushStarted)) s; \(outcome.skippedBlobs) already there)")
        }
        return reference
    }

    static func megabytes(_ bytes: Int64) -> String { String(format: "%.1f", Double(bytes) / 1e6) }
    static func seconds(_ d: Duration) -> String { String(format: "%.1f", Double(d / .milliseconds(1)) / 1000) }
}
