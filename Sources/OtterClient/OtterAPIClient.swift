import Foundation
import OtterAWS

/// A client of Otter's own REST API (DESIGN "REST API"), local or deployed:
/// `otter create-room`, `otter rotate-key` and the sample room after a deploy.
/// It borrows OtterAWS's libcurl transport, but nothing it calls is AWS, so
/// its errors are its own.
public struct OtterAPIClient: Sendable {
    /// Without trailing slashes.
    public let baseURL: String
    public let key: String
    private let timeouts: CurlTransport.Timeouts

    public init(baseURL: String, key: String, connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(30)) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.key = key
        self.timeouts = .init(connect: connectTimeout, total: totalTimeout)
    }

    /// `POST /rooms`: the new room (`roomId`, `url`, `token`, `expiresAt`,
    /// `maxPeers`); fields left nil take the API's defaults.
    public func createRoom(maxPeers: Int? = nil, ttlSeconds: Int? = nil) async throws(OtterAPIError) -> [String: Any] {
        var body: [String: Any] = [:]
        if let maxPeers { body["maxPeers"] = maxPeers }
        if let ttlSeconds { body["ttlSeconds"] = ttlSeconds }
        let room = try await call("POST", "/rooms", body: body)
        guard room["url"] is String else {
            throw OtterAPIError(.badResponse, "POST /rooms answered without a room link", status: nil)
        }
        return room
    }

    /// `POST /keys/rotate`: the new key; the old one stops working at once.
    public func rotateKey() async throws(OtterAPIError) -> String {
        guard let newKey = try await call("POST", "/keys/rotate")["apiKey"] as? String else {
            throw OtterAPIError(.badResponse, "the API answered without a new key", status: nil)
        }
        return newKey
    }

    /// Whether `GET /healthz` at `baseURL` answers 200 within `timeout` (a
    /// stopped `otter up` refuses at once). No key needed.
    public static func answers(_ baseURL: String, within timeout: Duration) async -> Bool {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base + "/healthz") else { return false }
        let transport = CurlTransport(timeouts: .init(connect: timeout, total: timeout))
        guard let response = try? await transport.send(HTTPRequest(method: "GET", url: url)) else { return false }
        return response.status == 200
    }

    /// One JSON call with the key; DESIGN's `{"error":…}` answers become
    /// `.rejected` with the API's own code and message.
    public func call(_ method: String, _ path: String, body: [String: Any]? = nil) async throws(OtterAPIError) -> [String: Any] {
        guard let url = URL(string: baseURL + path) else {
            throw OtterAPIError(.badURL, "\(baseURL) is not a URL", status: nil)
        }
        var headers = [("x-api-key", key), ("Accept", "application/json")]
        var bytes: [UInt8] = []
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array((try? JSONSerialization.data(withJSONObject: body)) ?? Data())
        }
        let response: HTTPResponse
        do {
            response = try await CurlTransport(timeouts: timeouts).send(HTTPRequest(method: method, url: url, headers: headers, body: bytes))
        } catch {
            // The transport reports in AWSError's shape; only its text is kept.
            let reason = (error as? AWSError)?.message ?? "\(error)"
            throw OtterAPIError(.unreachable, "could not reach \(baseURL): \(reason)", status: nil)
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        guard (200..<300).contains(response.status), let object else {
            if let err = object?["error"] as? [String: Any] {
                throw OtterAPIError(.rejected, "\(method) \(path) failed (\(response.status) \(err["code"] ?? "")): \(err["message"] ?? "")",
                                    status: response.status, apiCode: err["code"] as? String)
            }
            throw OtterAPIError(.badResponse, "\(method) \(path) failed with HTTP \(response.status): \(response.bodyText.prefix(300))",
                                status: response.status)
        }
        return object
    }
}

/// Why a call to Otter's API failed, in words a user can act on.
public struct OtterAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The base URL does not make a URL.
        case badURL = "bad-url"
        /// No answer: connection refused, DNS, timeout, TLS.
        case unreachable
        /// The API answered with DESIGN's error (see `apiCode`).
        case rejected
        /// An answer that is not the API's JSON.
        case badResponse = "bad-response"
    }

    public var code: Code
    public var message: String
    /// The HTTP status, when there was an answer.
    public var status: Int?
    /// DESIGN's error code, e.g. `unauthorized`.
    public var apiCode: String?

    public init(_ code: Code, _ message: String, status: Int?, apiCode: String? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.apiCode = apiCode
    }

    public var description: String { message }
}
