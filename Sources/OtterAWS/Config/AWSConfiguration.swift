import Foundation

/// Credentials, region and endpoints resolved the way the AWS CLI and SDKs do.
public struct AWSConfiguration: Sendable {
    public var credentials: AWSCredentials
    /// Human-readable origin of the credentials, e.g. `environment` or `profile "dev" in ~/.aws/credentials`.
    public var credentialSource: String
    public var region: String
    public var regionSource: String
    public var profile: String
    var endpointOverrides: EndpointOverrides

    public init(credentials: AWSCredentials, region: String, endpoint: String? = nil) {
        self.credentials = credentials
        self.credentialSource = "given"
        self.region = region
        self.regionSource = "given"
        self.profile = "default"
        self.endpointOverrides = EndpointOverrides(global: endpoint, perService: [:])
    }

    /// Resolves everything from `environment`, with explicit `profile` and
    /// `region` (command-line flags) winning as they do in the AWS CLI.
    public static func resolve(profile explicitProfile: String? = nil, region explicitRegion: String? = nil,
                               environment env: AWSEnvironment = AWSEnvironment(),
                               fallbackCredentials: AWSCredentials? = nil) throws -> AWSConfiguration {
        let profile = explicitProfile ?? env["AWS_PROFILE"] ?? env["AWS_DEFAULT_PROFILE"] ?? "default"
        let credentialsFile = env.readINI(env.credentialsFilePath)
        let configFile = env.readINI(env.configFilePath)
        let configSection = configFile?[profile == "default" ? "default" : "profile \(profile)"]
            ?? (profile == "default" ? nil : configFile?[profile])
        let credentialSection = credentialsFile?[profile]

        // Credentials: environment first, unless a profile was named on the command line.
        var credentials: AWSCredentials?
        var source = ""
        if explicitProfile == nil, let id = env["AWS_ACCESS_KEY_ID"] {
            guard let secret = env["AWS_SECRET_ACCESS_KEY"] else {
                throw AWSError(.credentials, message: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not. Set both (and AWS_SESSION_TOKEN for temporary credentials), or unset AWS_ACCESS_KEY_ID to use a profile.")
            }
            credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: env["AWS_SESSION_TOKEN"])
            source = "environment variables (AWS_ACCESS_KEY_ID)"
        }
        if credentials == nil {
            for (section, file) in [(credentialSection, env.credentialsFilePath), (configSection, env.configFilePath)] {
                guard let s = section, let id = s["aws_access_key_id"], let secret = s["aws_secret_access_key"] else { continue }
                credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: s["aws_session_token"])
                source = "profile \"\(profile)\" in \(file)"
                break
            }
        }
        if credentials == nil, let fallback = fallbackCredentials {
            credentials = fallback
            source = "fallback"
        }
        guard let credentials else {
            let named = explicitProfile != nil || env["AWS_PROFILE"] != nil
            let why = named && credentialSection == nil && configSection == nil
                ? "The profile \"\(profile)\" was not found in \(env.credentialsFilePath) or \(env.configFilePath)."
                : "No AWS credentials were found."
            throw AWSError(.credentials, message: "\(why) Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials), or put aws_access_key_id/aws_secret_access_key under [\(profile)] in \(env.credentialsFilePath), or choose a profile with AWS_PROFILE or --profile.")
        }

        // Region: flag, AWS_REGION, AWS_DEFAULT_REGION, the profile.
        let region: String
        let regionSource: String
        if let r = explicitRegion { region = r; regionSource = "--region" }
        else if let r = env["AWS_REGION"] { region = r; regionSource = "AWS_REGION" }
        else if let r = env["AWS_DEFAULT_REGION"] { region = r; regionSource = "AWS_DEFAULT_REGION" }
        else if let r = configSection?["region"], !r.isEmpty { region = r; regionSource = "profile \"\(profile)\" in \(env.configFilePath)" }
        else {
            throw AWSError(.region, message: "No AWS region is set. Pass --region, set AWS_REGION (e.g. export AWS_REGION=eu-west-1), or add region = ... under [\(profile == "default" ? "default" : "profile \(profile)")] in \(env.configFilePath).")
        }
        guard Self.isValidRegion(region) else {
            throw AWSError(.region, message: "\"\(region)\" (from \(regionSource)) is not a region name. Use a name such as us-east-1 or eu-central-1.")
        }

        var config = AWSConfiguration(credentials: credentials, region: region)
        config.credentialSource = source
        config.regionSource = regionSource
        config.profile = profile
        config.endpointOverrides = EndpointOverrides.resolve(env: env, profileSection: configSection)
        return config
    }

    /// Any region works (no allow-list); only the shape is checked so a typo
    /// like "us east 1" fails here instead of as a DNS error.
    static func isValidRegion(_ r: String) -> Bool {
        !r.isEmpty && r.count <= 64 && r.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    /// The endpoint URL for `service`, and where it came from.
    public func endpoint(for service: AWSService) -> (url: URL, source: String) {
        if let o = endpointOverrides.url(for: service) { return o }
        return (service.defaultEndpoint(region: region), "default for \(region)")
    }

    /// True when an override points the service somewhere else (a local moto,
    /// say): then S3 must be addressed path-style.
    public func hasEndpointOverride(for service: AWSService) -> Bool {
        endpointOverrides.url(for: service) != nil
    }
}

/// `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL` and the profile's
/// `endpoint_url`, in the SDKs' order; `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` turns them off.
struct EndpointOverrides: Sendable {
    var global: String?
    var perService: [String: String]
    var globalSource = "AWS_ENDPOINT_URL"

    static func resolve(env: AWSEnvironment, profileSection: [String: String]?) -> EndpointOverrides {
        if let ignore = env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"], ignore.lowercased() == "true" {
            return EndpointOverrides(global: nil, perService: [:])
        }
        var per: [String: String] = [:]
        for (k, v) in env.variables where k.hasPrefix("AWS_ENDPOINT_URL_") && !v.isEmpty {
            per[String(k.dropFirst("AWS_ENDPOINT_URL_".count))] = v
        }
        if let g = env["AWS_ENDPOINT_URL"] {
            return EndpointOverrides(global: g, perService: per)
        }
        var o = EndpointOverrides(global: profileSection?["endpoint_url"], perService: per)
        o.globalSource = "endpoint_url in the profile"
        return o
    }

    func url(for service: AWSService) -> (url: URL, source: String)? {
        if let v = perService[service.environmentSuffix], let u = URL(string: v) {
            return (u, "AWS_ENDPOINT_URL_\(service.environmentSuffix)")
        }
        if let g = global, let u = URL(string: g) { return (u, globalSource) }
        return nil
    }
}
