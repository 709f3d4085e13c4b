import Foundation
import Testing
@testable import OtterAWS

/// The continuation logic of the paged listings, against a scripted server
/// (Fixtures/paging_server.py) that serves three, two and two pages.
struct PagingTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/paging_server.py").path

    func client() throws -> (TestProcess, AWSClient) {
        let p = try TestProcess("python3", [Self.script, "0"])
        let port = try #require(p.listeningPort(timeout: 30))
        let c = AWSClient(configuration: AWSConfiguration(credentials: AWSCredentials(accessKeyID: "K", secretAccessKey: "s"),
                                                          region: "us-east-1", endpoint: "http://127.0.0.1:\(port)"),
                          retryPolicy: RetryPolicy(baseDelay: .milliseconds(5)))
        return (p, c)
    }

    @Test func listObjectsV2FollowsContinuationTokens() async throws {
        let (p, c) = try client()
        defer { p.stop() }
        let objects = try await S3(client: c).listObjectsV2(bucket: "b")
        #expect(objects.map(\.key) == (0..<7).map { "k\($0)" })
        #expect(objects[4].size == 4)
    }

    @Test func listObjectVersionsFollowsMarkers() async throws {
        let (p, c) = try client()
        defer { p.stop() }
        let versions = try await S3(client: c).listObjectVersions(bucket: "b")
        #expect(versions == [
            S3.ObjectVersion(key: "a", versionID: "v1", isDeleteMarker: false),
            S3.ObjectVersion(key: "a", versionID: "v2", isDeleteMarker: true),
            S3.ObjectVersion(key: "b", versionID: "null", isDeleteMarker: false),
        ])
    }

    @Test func describeStackEventsFollowsNextToken() async throws {
        let (p, c) = try client()
        defer { p.stop() }
        let events = try await CloudFormation(client: c).describeStackEvents(name: "s")
        #expect(events.map(\.logicalID) == ["R0", "R1"])
    }
}
