import Foundation

/// ECS task metadata endpoint v4: the task's first IPv4 address (awsvpc mode).
public enum TaskMetadata {
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public static func privateIPv4(metadataURI: String) async throws -> String {
        guard let url = URL(string: metadataURI + "/task") else { throw Failure(description: "not a URL") }
        let response = try await CurlTransport(timeouts: .init(connect: .seconds(2), total: .seconds(5)))
            .send(HTTPRequest(method: "GET", url: url, headers: [], body: []))
        guard response.status == 200 else { throw Failure(description: "HTTP \(response.status)") }
        guard let task = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let containers = task["Containers"] as? [[String: Any]] else {
            throw Failure(description: "the answer has no Containers")
        }
        for container in containers {
            for network in container["Networks"] as? [[String: Any]] ?? [] {
                if let ip = (network["IPv4Addresses"] as? [String])?.first { return ip }
            }
        }
        throw Failure(description: "no container has an IPv4 address (is the task in awsvpc network mode?)")
    }
}
