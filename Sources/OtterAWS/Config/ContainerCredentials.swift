import Foundation

/// Credentials of an ECS task role (or EKS Pod Identity), fetched from the
/// container credentials endpoint the way the AWS SDKs do:
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` on 169.254.170.2, or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` with the token in
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN` (or `_TOKEN_FILE`).
public enum ContainerCredentials {
    public static func isConfigured(_ env: AWSEnvironment) -> Bool {
        env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] != nil || env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] != nil
    }

    /// The URL to ask, refusing a plain-HTTP full URI that is not local (the
    /// SDKs' rule: credentials never travel over the network unencrypted).
    static func endpoint(_ env: AWSEnvironment) throws -> (url: URL, authorization: String?) {
        if let relative = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            guard let url = URL(string: "http://169.254.170.2" + relative) else {
                throw AWSError(.credentials, message: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (\(relative)) is not a path")
            }
            return (url, nil)
        }
        guard let full = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], let url = URL(string: full), let host = url.host else {
            throw AWSError(.credentials, message: "AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL")
        }
        let allowedHTTPHosts = ["127.0.0.1", "localhost", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"]
        guard url.scheme == "https" || (url.scheme == "http" && (allowedHTTPHosts.contains(host) || host.hasPrefix("127."))) else {
            throw AWSError(.credentials, message: "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http on a loopback or ECS/EKS link-local address; got \(full)")
        }
        var token = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        if let file = env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw AWSError(.credentials, message: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (\(file))")
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return (url, token)
    }

    public static func fetch(_ env: AWSEnvironment, transport: any HTTPTransport = CurlTransport(timeouts: .init(connect: .seconds(2), total: .seconds(5)))) async throws -> AWSCredentials {
        let (url, authorization) = try endpoint(env)
        var headers: [(String, String)] = [("Accept", "application/json")]
        if let authorization { headers.append(("Authorization", authorization)) }
        let response: HTTPResponse
        do {
            response = try await transport.send(HTTPRequest(method: "GET", url: url, headers: headers, body: []))
        } catch let e as AWSError {
            throw AWSError(.credentials, message: "the container credentials endpoint \(url.absoluteString) did not answer (\(e.message))")
        }
        guard response.status == 200 else {
            throw AWSError(.credentials, message: "the container credentials endpoint \(url.absoluteString) answered HTTP \(response.status)")
        }
        return try parse(response.body)
    }

    static func parse(_ body: [UInt8]) throws -> AWSCredentials {
        guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let id = o["AccessKeyId"] as? String, let secret = o["SecretAccessKey"] as? String else {
            throw AWSError(.credentials, message: "the container credentials endpoint answered without AccessKeyId/SecretAccessKey")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: o["Token"] as? String)
    }
}

extension AWSConfiguration {
    /// `resolve`, then the container credentials endpoint when neither the
    /// environment nor a profile has keys (the SDKs' order).
    public static func resolveIncludingContainer(profile: String? = nil, region: String? = nil,
                                                 environment env: AWSEnvironment = AWSEnvironment()) async throws -> AWSConfiguration {
        do {
            return try resolve(profile: profile, region: region, environment: env)
        } catch let e as AWSError where e.code == .credentials && profile == nil && env["AWS_ACCESS_KEY_ID"] == nil
                                        && ContainerCredentials.isConfigured(env) {
            let credentials = try await ContainerCredentials.fetch(env)
            var config = try resolve(profile: profile, region: region, environment: env, fallbackCredentials: credentials)
            config.credentialSource = "container credentials (task role)"
            return config
        }
    }
}
