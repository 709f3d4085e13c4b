import Foundation
import Logging

/// Signs, sends and retries requests to any AWS service. The service clients
/// (STS, CloudFormation, S3, CloudFront) are thin layers over `send`.
public struct AWSClient: Sendable {
    public var configuration: AWSConfiguration
    public var transport: any HTTPTransport
    public var retryPolicy: RetryPolicy
    public var logger: Logger
    /// Injected so tests can sign at a fixed time.
    public var clock: @Sendable () -> Date

    public init(configuration: AWSConfiguration, transport: any HTTPTransport = CurlTransport(),
                retryPolicy: RetryPolicy = RetryPolicy(), logger: Logger = Logger(label: "otter.aws"),
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.transport = transport
        self.retryPolicy = retryPolicy
        self.logger = logger
        self.clock = clock
    }

    /// Sends one request. `path` and `query` are wire forms (already percent-encoded).
    public func send(_ service: AWSService, method: String, path: String = "/", query: String = "",
                     headers: [(String, String)] = [], body: [UInt8] = [], host hostOverride: String? = nil) async throws -> HTTPResponse {
        let endpoint = configuration.endpoint(for: service).url
        var basePath = endpoint.path
        if basePath.hasSuffix("/") { basePath.removeLast() }
        let fullPath = basePath + (path.hasPrefix("/") ? path : "/" + path)
        let host = hostOverride ?? Self.hostHeader(endpoint)
        let scheme = endpoint.scheme ?? "https"
        guard let url = URL(string: "\(scheme)://\(host)\(fullPath)\(query.isEmpty ? "" : "?" + query)") else {
            throw AWSError(.transport, service: service.displayName, message: "cannot form a URL from \(endpoint) and \(path)")
        }
        var attempt = 0
        while true {
            attempt += 1
            let signer = SigV4Signer(credentials: configuration.credentials,
                                     region: service.signingRegion(configured: configuration.region),
                                     service: service.signingName)
            let signature = signer.sign(SigV4Request(method: method, host: host, path: fullPath, query: query, headers: headers, body: body), date: clock())
            let request = HTTPRequest(method: method, url: url, headers: headers + signature.headersToAdd, body: body)
            let failure: AWSError
            do {
                let response = try await transport.send(request)
                if (200..<300).contains(response.status) { return response }
                failure = AWSErrorDecoder.decode(response, service: service)
            } catch let e as AWSError {
                failure = AWSError(e.code, service: service.displayName, serviceCode: e.serviceCode, message: e.message, statusCode: e.statusCode)
            }
            guard attempt < retryPolicy.maxAttempts, retryPolicy.isRetryable(failure) else { throw failure }
            let delay = retryPolicy.delay(afterAttempt: attempt)
            logger.debug("retrying AWS call", metadata: ["service": "\(service.displayName)", "attempt": "\(attempt)", "error": "\(failure)"])
            try await Task.sleep(for: delay)
        }
    }

    /// `Host` as curl will send it: the port only when it is not the scheme's default.
    static func hostHeader(_ url: URL) -> String {
        let host = url.host ?? ""
        guard let port = url.port else { return host }
        let isDefault = (url.scheme == "https" && port == 443) || (url.scheme == "http" && port == 80)
        return isDefault ? host : "\(host):\(port)"
    }

    // MARK: Query protocol (STS, IAM, CloudFormation, EC2)

    /// Calls a Query-protocol action and returns its `<ActionResult>` element.
    public func query(_ service: AWSService, action: String, _ parameters: [(String, String)] = []) async throws -> XMLNode {
        guard case .query(let version) = service.wireProtocol else {
            preconditionFailure("\(service.displayName) does not speak the Query protocol")
        }
        let form = ([("Action", action), ("Version", version)] + parameters)
            .map { "\(URIEncoding.formEncode($0.0))=\(URIEncoding.formEncode($0.1))" }.joined(separator: "&")
        let response = try await send(service, method: "POST", headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: Array(form.utf8))
        let xml: XMLNode
        do { xml = try XMLNode.parse(response.body) } catch {
            throw AWSError(.decoding, service: service.displayName, message: "\(action) answered with something that is not XML")
        }
        return xml["\(action)Result"] ?? xml
    }

    // MARK: JSON protocol (DynamoDB, ECR)

    /// Calls a JSON-protocol action (`X-Amz-Target: <prefix>.<action>`) and returns the decoded object.
    public func json(_ service: AWSService, action: String, _ input: [String: Any]) async throws -> [String: Any] {
        guard case .json(let prefix, let version) = service.wireProtocol else {
            preconditionFailure("\(service.displayName) does not speak the JSON protocol")
        }
        let body = try JSONSerialization.data(withJSONObject: input, options: [.sortedKeys])
        let response = try await send(service, method: "POST",
                                      headers: [("Content-Type", "application/x-amz-json-\(version)"), ("X-Amz-Target", "\(prefix).\(action)")],
                                      body: Array(body))
        if response.body.isEmpty { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw AWSError(.decoding, service: service.displayName, message: "\(action) answered with something that is not a JSON object")
        }
        return object
    }
}
