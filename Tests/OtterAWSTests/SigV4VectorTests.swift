import Foundation
import Testing
@testable import OtterAWS

/// AWS's published SigV4 vectors (Fixtures/aws-sigv4-testsuite, Apache-2.0, from
/// botocore and aws-c-auth; see its README): for every case the canonical
/// request, string to sign and signature must match.
struct SigV4VectorTests {
    static let suiteRoot: URL = {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let env = ProcessInfo.processInfo.environment["OTTER_SIGV4_SUITE"]
        return env.map { URL(fileURLWithPath: $0) } ?? here.appendingPathComponent("Fixtures/aws-sigv4-testsuite")
    }()

    static let defaultCredentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let defaultDate = Date(timeIntervalSince1970: 1_440_938_160)  // 20150830T123600Z

    /// botocore itself skips a few cases; this signer passes all of them, so none is skipped here.
    static let botocoreSkipped: Set<String> = []

    static func botocoreCases() -> [String] {
        let root = suiteRoot.appendingPathComponent("botocore-aws4")
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".req") }
            .map { String($0.dropLast(4)) }.sorted()
    }

    static func awsCCases() -> [String] {
        let root = suiteRoot.appendingPathComponent("aws-c-auth/v4")
        return ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted()
    }

    @Test func suiteIsPresent() {
        #expect(Self.botocoreCases().count >= 30, "vectors not found under \(Self.suiteRoot.path)")
        #expect(Self.awsCCases().count >= 38)
    }

    @Test(arguments: botocoreCases())
    func botocoreVector(_ casePath: String) throws {
        let name = String(casePath.split(separator: "/").last!)
        if Self.botocoreSkipped.contains(name) { return }
        let base = Self.suiteRoot.appendingPathComponent("botocore-aws4").appendingPathComponent(casePath)
        let read = { (ext: String) in try String(contentsOf: URL(fileURLWithPath: base.path + ext), encoding: .utf8) }
        let creq = try read(".creq")
        let token = creq.split(separator: "\n").first { $0.hasPrefix("x-amz-security-token:") }.map { String($0.dropFirst("x-amz-security-token:".count)) }
        var creds = Self.defaultCredentials
        creds.sessionToken = token
        var request = try RawRequest.parse(read(".req"))
        request.headers.removeAll { $0.0.lowercased() == "x-amz-security-token" }  // the signer adds it from the credentials
        let signer = SigV4Signer(credentials: creds, region: "us-east-1", service: "service")
        let sig = signer.sign(request, date: Self.defaultDate)
        #expect(sig.canonicalRequest == creq, "canonical request of \(casePath)")
        #expect(sig.stringToSign == (try read(".sts")), "string to sign of \(casePath)")
        let authz = sig.headersToAdd.first { $0.0 == "Authorization" }?.1
        #expect(authz == (try read(".authz")), "Authorization of \(casePath)")
    }

    struct Context: Decodable {
        struct Creds: Decodable { var access_key_id: String; var secret_access_key: String; var token: String? }
        var credentials: Creds
        var region: String
        var service: String
        var timestamp: String
        var normalize: Bool
        var sign_body: Bool?
        var omit_session_token: Bool?
        var expiration_in_seconds: Int?
    }

    @Test(arguments: awsCCases())
    func awsCAuthVector(_ name: String) throws {
        let dir = Self.suiteRoot.appendingPathComponent("aws-c-auth/v4").appendingPathComponent(name)
        let read = { (file: String) in try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8) }
        let context = try JSONDecoder().decode(Context.self, from: Data(read("context.json").utf8))
        let date = ISO8601DateFormatter().date(from: context.timestamp)!
        let creds = AWSCredentials(accessKeyID: context.credentials.access_key_id, secretAccessKey: context.credentials.secret_access_key,
                                   sessionToken: context.credentials.token)
        let request = try RawRequest.parse(read("request.txt"))
        let signer = SigV4Signer(credentials: creds, region: context.region, service: context.service,
                                 normalizePath: context.normalize, doubleEncodePath: true,
                                 payloadSigning: context.sign_body == true ? .header : .hashOnly,
                                 signSessionToken: !(context.omit_session_token ?? false))

        let header = signer.sign(request, date: date)
        #expect(header.canonicalRequest == (try read("header-canonical-request.txt")), "header canonical request of \(name)")
        #expect(header.stringToSign == (try read("header-string-to-sign.txt")), "header string to sign of \(name)")
        #expect(header.signature == (try read("header-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))

        let query = signer.presign(request, date: date, expires: context.expiration_in_seconds ?? 3600)
        #expect(query.canonicalRequest == (try read("query-canonical-request.txt")), "query canonical request of \(name)")
        #expect(query.stringToSign == (try read("query-string-to-sign.txt")), "query string to sign of \(name)")
        #expect(query.signature == (try read("query-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func s3SignsThePathAsSentWithoutNormalizing() {
        let creds = Self.defaultCredentials
        let s3 = SigV4Signer(credentials: creds, region: "us-east-1", service: "s3")
        let other = SigV4Signer(credentials: creds, region: "us-east-1", service: "cloudformation")
        #expect(s3.canonicalPath("/bucket/my%20key//a/./b") == "/bucket/my%20key//a/./b")
        #expect(other.canonicalPath("/bucket/my%20key//a/./b") == "/bucket/my%2520key/a/b")
        let sig = s3.sign(SigV4Request(method: "PUT", host: "b.s3.amazonaws.com", path: "/k", body: Array("hi".utf8)), date: Self.defaultDate)
        #expect(sig.headersToAdd.contains { $0.0 == "X-Amz-Content-Sha256" && $0.1 == "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4" })
    }

    @Test func presignedS3URLUsesUnsignedPayload() {
        let s3 = SigV4Signer(credentials: Self.defaultCredentials, region: "us-east-1", service: "s3", payloadSigning: .unsigned)
        let sig = s3.presign(SigV4Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt"), date: Self.defaultDate, expires: 86400)
        #expect(sig.canonicalRequest.hasSuffix("\nhost\nUNSIGNED-PAYLOAD"))
        #expect(sig.query.contains("X-Amz-Signature=\(sig.signature)"))
    }
}

/// The `.req`/`request.txt` format: request line, headers (continuation lines
/// indented), blank line, body.
enum RawRequest {
    static func parse(_ text: String) throws -> SigV4Request {
        let (head, body): (Substring, Substring) = {
            if let r = text.range(of: "\n\n") { return (text[..<r.lowerBound], text[r.upperBound...]) }
            return (Substring(text), "")
        }()
        let lines = head.split(separator: "\n", omittingEmptySubsequences: false)
        let requestLine = lines[0].split(separator: " ")
        let method = String(requestLine[0])
        let target = requestLine[1..<(requestLine.count - 1)].joined(separator: " ")
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        let host = headers.first { $0.0.lowercased() == "host" }?.1 ?? ""
        return SigV4Request(method: method, host: host, path: String(path[0]), query: path.count > 1 ? String(path[1]) : "",
                            headers: headers, body: Array(body.utf8))
    }
}
