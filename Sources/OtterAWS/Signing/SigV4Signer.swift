import Crypto
import Foundation

/// A request as the signer sees it: no I/O, no URL parsing surprises.
/// `path` and `query` are the wire forms (percent-encoded as they will be sent).
public struct SigV4Request: Sendable, Equatable {
    public var method: String
    public var host: String
    public var path: String
    public var query: String
    /// Header name/value pairs in order; duplicates allowed (they are joined with ",").
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(method: String, host: String, path: String = "/", query: String = "", headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        self.host = host
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
        self.body = body
    }

    public static func == (a: SigV4Request, b: SigV4Request) -> Bool {
        a.method == b.method && a.host == b.host && a.path == b.path && a.query == b.query && a.body == b.body
            && a.headers.elementsEqual(b.headers, by: { $0 == $1 })
    }

    public func header(_ name: String) -> String? {
        headers.last(where: { $0.0.caseInsensitiveCompare(name) == .orderedSame })?.1
    }
}

/// The intermediate results of signing, kept so tests can compare each step
/// against AWS's published vectors.
public struct SigV4Signature: Sendable, Equatable {
    public var canonicalRequest: String
    public var stringToSign: String
    public var signature: String
    /// Headers to add to the request (header signing) — includes Authorization.
    public var headersToAdd: [(String, String)]
    /// The complete query string to send (query signing); for header signing, the request's own.
    public var query: String

    public static func == (a: SigV4Signature, b: SigV4Signature) -> Bool {
        a.canonicalRequest == b.canonicalRequest && a.signature == b.signature && a.query == b.query
    }
}

/// AWS Signature Version 4, as a pure value: the same inputs always give the
/// same signature, so it is tested against AWS's vectors without a network.
public struct SigV4Signer: Sendable {
    public enum PayloadSigning: Sendable, Equatable {
        /// SHA-256 of the body goes into the canonical request only.
        case hashOnly
        /// Also send it as `x-amz-content-sha256` (S3 requires this header).
        case header
        /// `UNSIGNED-PAYLOAD` (S3 presigned URLs).
        case unsigned
    }

    public var credentials: AWSCredentials
    public var region: String
    public var service: String
    /// Non-S3 services remove dot segments and duplicate slashes and encode the
    /// path a second time; S3 signs the path exactly as sent.
    public var normalizePath: Bool
    public var doubleEncodePath: Bool
    public var payloadSigning: PayloadSigning
    /// Some services want the session token added after signing (not signed).
    public var signSessionToken: Bool

    public init(credentials: AWSCredentials, region: String, service: String,
                normalizePath: Bool? = nil, doubleEncodePath: Bool? = nil,
                payloadSigning: PayloadSigning? = nil, signSessionToken: Bool = true) {
        let isS3 = service == "s3"
        self.credentials = credentials
        self.region = region
        self.service = service
        self.normalizePath = normalizePath ?? !isS3
        self.doubleEncodePath = doubleEncodePath ?? !isS3
        self.payloadSigning = payloadSigning ?? (isS3 ? .header : .hashOnly)
        self.signSessionToken = signSessionToken
    }

    // MARK: Header signing

    public func sign(_ request: SigV4Request, date: Date) -> SigV4Signature {
        let (amzDate, day) = Self.timestamps(date)
        let payloadHash = self.payloadHash(request.body)
        var headers = request.headers.filter { $0.0.lowercased() != "x-amz-date" && $0.0.lowercased() != "authorization" }
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { headers.append(("Host", request.host)) }
        var added: [(String, String)] = [("X-Amz-Date", amzDate)]
        if payloadSigning == .header || payloadSigning == .unsigned { added.append(("X-Amz-Content-Sha256", payloadHash)) }
        if let token = credentials.sessionToken, signSessionToken { added.append(("X-Amz-Security-Token", token)) }
        headers += added
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        let canonical = [
            request.method.uppercased(),
            canonicalPath(request.path),
            Self.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let sts = Self.stringToSign(amzDate: amzDate, scope: scope, canonical: canonical)
        let signature = hexHMAC(key: signingKey(day: day), sts)
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        if let token = credentials.sessionToken, !signSessionToken { added.append(("X-Amz-Security-Token", token)) }
        added.append(("Authorization", authorization))
        return SigV4Signature(canonicalRequest: canonical, stringToSign: sts, signature: signature, headersToAdd: added, query: request.query)
    }

    // MARK: Query signing (presigned URLs)

    public func presign(_ request: SigV4Request, date: Date, expires: Int) -> SigV4Signature {
        let (amzDate, day) = Self.timestamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        var headers = request.headers.filter { $0.0.lowercased() != "x-amz-date" }
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { headers.append(("Host", request.host)) }
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        var params: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
            ("X-Amz-Date", amzDate),
            ("X-Amz-Expires", String(expires)),
        ]
        if let token = credentials.sessionToken, signSessionToken { params.append(("X-Amz-Security-Token", token)) }
        params.append(("X-Amz-SignedHeaders", signedHeaders))
        let extra = params.map { "\(URIEncoding.encode($0.0))=\(URIEncoding.encode($0.1))" }.joined(separator: "&")
        let fullQuery = request.query.isEmpty ? extra : request.query + "&" + extra
        let payloadHash = payloadSigning == .unsigned ? "UNSIGNED-PAYLOAD" : Self.hex(SHA256.hash(data: request.body))
        let canonical = [
            request.method.uppercased(),
            canonicalPath(request.path),
            Self.canonicalQuery(fullQuery),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let sts = Self.stringToSign(amzDate: amzDate, scope: scope, canonical: canonical)
        let signature = hexHMAC(key: signingKey(day: day), sts)
        var query = fullQuery + "&X-Amz-Signature=\(signature)"
        if let token = credentials.sessionToken, !signSessionToken {
            query += "&X-Amz-Security-Token=\(URIEncoding.encode(token))"
        }
        return SigV4Signature(canonicalRequest: canonical, stringToSign: sts, signature: signature, headersToAdd: [], query: query)
    }

    // MARK: Canonical pieces

    func payloadHash(_ body: [UInt8]) -> String {
        payloadSigning == .unsigned ? "UNSIGNED-PAYLOAD" : Self.hex(SHA256.hash(data: body))
    }

    func canonicalPath(_ wirePath: String) -> String {
        var path = wirePath.isEmpty ? "/" : wirePath
        if normalizePath { path = Self.normalize(path) }
        guard doubleEncodePath else { return path }
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { URIEncoding.encode(String($0)) }
            .joined(separator: "/")
    }

    /// RFC 3986 dot-segment removal plus collapsing of empty segments, keeping
    /// a trailing slash — what AWS's normalized canonical path expects.
    static func normalize(_ path: String) -> String {
        var out: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for s in segments {
            if s == "." { continue }
            if s == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(s)
        }
        var result = "/" + out.joined(separator: "/")
        let endsWithDir = path.hasSuffix("/") || path.hasSuffix("/.") || path.hasSuffix("/..")
        if endsWithDir && !out.isEmpty { result += "/" }
        return result
    }

    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs: [(String, String)] = query.split(separator: "&", omittingEmptySubsequences: true).map { item in
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = URIEncoding.decode(String(kv[0]))
            let value = kv.count > 1 ? URIEncoding.decode(String(kv[1])) : ""
            return (URIEncoding.encode(key), URIEncoding.encode(value))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func canonicalHeaders(_ headers: [(String, String)]) -> (String, String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let trimmed = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
            merged[name.lowercased(), default: []].append(trimmed)
        }
        let names = merged.keys.sorted()
        let canonical = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    static func stringToSign(amzDate: String, scope: String, canonical: String) -> String {
        ["AWS4-HMAC-SHA256", amzDate, scope, hex(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
    }

    func signingKey(day: String) -> SymmetricKey {
        func mac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key))
        }
        let kDate = mac(SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8)), day)
        return mac(mac(mac(kDate, region), service), "aws4_request")
    }

    func hexHMAC(key: SymmetricKey, _ text: String) -> String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key))
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0x0f)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        let day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        return (day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!), day)
    }
}

extension SHA256.Digest {
    var bytes: [UInt8] { Array(self) }
}
