import Foundation
import OtterAWS

/// A first room link after a deploy, by calling the deployed API itself.
enum SampleRoom {
    static func create(apiURL: String?, key: String?, console: Console, stack: String) async -> String? {
        let howTo = "create one with `otter create-room --stack \(stack)` once it answers"
        guard let apiURL, let key else {
            console.say("Sample room: no API key on this machine; \(howTo) (pass --api-key)")
            return nil
        }
        var base = apiURL
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base + "/rooms") else { return nil }
        let body = Array(#"{"maxPeers":2}"#.utf8)
        do {
            let response = try await CurlTransport(timeouts: .init(connect: .seconds(5), total: .seconds(15))).send(
                HTTPRequest(method: "POST", url: url, headers: [("x-api-key", key), ("Content-Type", "application/json")], body: body))
            guard response.status == 201 || response.status == 200,
                  let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                  let link = object["url"] as? String else {
                console.say("Sample room: the API answered HTTP \(response.status); \(howTo)")
                return nil
            }
            return link
        } catch {
            console.say("Sample room: the API at \(base) did not answer (\(error)); \(howTo)")
            return nil
        }
    }
}
