import Foundation
import Testing
@testable import OtterAWS

/// Retries against a tiny local HTTP server (Tests/OtterAWSTests/Fixtures/
/// scripted_server.py) that answers a scripted sequence of statuses.
struct RetryTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/scripted_server.py").path

    /// Starts the server with `answers` (e.g. "503,200") and returns a client for it.
    func start(_ answers: String) throws -> (TestProcess, AWSClient, Int) {
        let p = try TestProcess("python3", [Self.script, "0", answers])
        let port = try #require(p.listeningPort(timeout: 30))
        let client = AWSClient(configuration: AWSConfiguration(credentials: AWSCredentials(accessKeyID: "K", secretAccessKey: "s"),
                                                               region: "us-east-1", endpoint: "http://127.0.0.1:\(port)"),
                               retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5)))
        return (p, client, port)
    }

    func hits(_ port: Int) async throws -> Int {
        let r = try await CurlTransport().send(HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:\(port)/__count")!))
        return Int(r.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func retries503ThenSucceeds() async throws {
        let (p, client, port) = try start("503,503,200")
        defer { p.stop() }
        let id = try await STS(client: client).getCallerIdentity()
        #expect(id.account == "123456789012")
        #expect(try await hits(port) == 3)
    }

    @Test func retriesThrottlingAt400() async throws {
        let (p, client, port) = try start("throttle,200")
        defer { p.stop() }
        _ = try await STS(client: client).getCallerIdentity()
        #expect(try await hits(port) == 2)
    }

    @Test func givesUpAfterThreeAttempts() async throws {
        let (p, client, port) = try start("500,500,500,200")
        defer { p.stop() }
        let e = await #expect(throws: AWSError.self) { try await STS(client: client).getCallerIdentity() }
        #expect(e?.statusCode == 500)
        #expect(try await hits(port) == 3)
    }

    @Test func neverRetriesClientErrors() async throws {
        let (p, client, port) = try start("400,200")
        defer { p.stop() }
        let e = await #expect(throws: AWSError.self) { try await STS(client: client).getCallerIdentity() }
        #expect(e?.description == "STS: ValidationError: 1 validation error detected")
        #expect(try await hits(port) == 1)
    }

    @Test func retriesConnectionFailures() async throws {
        let refusing = RefusingPort()
        let port = refusing.port
        let client = AWSClient(configuration: AWSConfiguration(credentials: AWSCredentials(accessKeyID: "K", secretAccessKey: "s"),
                                                               region: "us-east-1", endpoint: "http://127.0.0.1:\(port)"),
                               retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5)))
        let start = ContinuousClock.now
        let e = await #expect(throws: AWSError.self) { try await STS(client: client).getCallerIdentity() }
        #expect(e?.code == .transport)
        #expect(e?.description.hasPrefix("STS: ") == true)
        // Refused at once, so three quick attempts; a hang would take 3 × the
        // 10 s connect timeout. The bound only tells those apart (13.7 s was
        // seen on a machine at load ~20, so it is not a speed check).
        #expect(ContinuousClock.now - start < .seconds(25))
        withExtendedLifetime(refusing) {}  // the port stays held, so it refuses, until here
    }

    @Test func backoffIsBoundedAndJittered() {
        let p = RetryPolicy(maxAttempts: 3, baseDelay: .seconds(1), maxBackoff: .seconds(20))
        let delays = (0..<200).map { _ in p.delay(afterAttempt: 2) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .seconds(2) })
        #expect(Set(delays.map { $0.components.attoseconds }).count > 10)
        #expect((0..<50).map { _ in p.delay(afterAttempt: 30) }.allSatisfy { $0 <= .seconds(20) })
    }
}
