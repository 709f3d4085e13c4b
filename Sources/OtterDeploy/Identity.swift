import Foundation
import OtterAWS

/// Who the deploy runs as: STS GetCallerIdentity, printed before anything is
/// created, so wrong credentials stop the deploy with nothing changed.
public enum Identity {
    public static func check(client: AWSClient, console: Console) async throws -> STS.CallerIdentity {
        let config = client.configuration
        do {
            let id = try await STS(client: client).getCallerIdentity()
            var line = "Account \(id.account) · region \(config.region) · credentials from \(config.credentialSource)"
            if config.hasEndpointOverride(for: .cloudFormation) {
                line += " · endpoint \(config.endpoint(for: .cloudFormation).url.absoluteString)"
            }
            console.say(line)
            return id
        } catch let e as AWSError {
            throw DeployError(.credentials, explain(e, config: config) + "\nNothing was created.")
        }
    }

    /// One paragraph a user can act on, for the failures people actually hit.
    public static func explain(_ e: AWSError, config: AWSConfiguration) -> String {
        if e.isAuthenticationFailure {
            return """
            AWS refused the credentials (\(e)).
            The access key \(config.credentials.accessKeyID) from \(config.credentialSource) is unknown, or its secret is wrong, or the session token has expired. \
            Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or the profile "\(config.profile)" in ~/.aws/credentials; \
            create a new access key in the IAM console if you no longer have the secret.
            """
        }
        if e.code == .transport {
            return """
            Could not reach \(config.endpoint(for: .sts).url.absoluteString) (\(e.message)).
            Check your network, or AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS if you point Otter at another endpoint.
            """
        }
        return "The call to STS failed: \(e)"
    }
}
