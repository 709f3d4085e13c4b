import ArgumentParser
import Foundation
import OtterAWS

/// How `create-room` and `rotate-key` find the API: flags, then
/// OTTER_API_URL/OTTER_API_KEY, then the state `otter up` left in --data-dir.
struct APIClientOptions: ParsableArguments {
    @Option(help: "API base URL (default: OTTER_API_URL, or the local `otter up`).")
    var apiURL: String?

    @Option(help: "API key (default: OTTER_API_KEY, or the key `otter up` stored).")
    var apiKey: String?

    @Option(help: "Folder `otter up` keeps its state in.")
    var dataDir = ".otter"

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func resolve() -> (url: String, key: String, keySource: KeySource) {
        let env = ProcessInfo.processInfo.environment
        guard let url = apiURL ?? env["OTTER_API_URL"] ?? LocalEndpoint.load(dataDirectory: dataDir) else {
            CLI.fail("no API to talk to. Start one with `otter up`, or pass --api-url (or set OTTER_API_URL).")
        }
        if let k = apiKey { return (url, k, .flag) }
        if let k = env["OTTER_API_KEY"], !k.isEmpty { return (url, k, .environment) }
        if let k = APIKeyFile.load(dataDirectory: dataDir) { return (url, k, .localFile) }
        CLI.fail("no API key. Pass --api-key, set OTTER_API_KEY, or run this where `otter up` stored it (\(APIKeyFile.path(dataDirectory: dataDir))).")
    }

    enum KeySource { case flag, environment, localFile }

    /// One JSON call to the API; errors come back as DESIGN's `{"error":…}` and are shown as such.
    func call(_ method: String, _ url: String, path: String, key: String, body: [String: Any]? = nil) async -> [String: Any] {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        guard let u = URL(string: base + path) else { CLI.fail("\(url) is not a URL") }
        var headers = [("x-api-key", key), ("Accept", "application/json")]
        var bytes: [UInt8] = []
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array((try? JSONSerialization.data(withJSONObject: body)) ?? Data())
        }
        let response: HTTPResponse
        do {
            response = try await CurlTransport(timeouts: .init(connect: .seconds(5), total: .seconds(30)))
                .send(HTTPRequest(method: method, url: u, headers: headers, body: bytes))
        } catch let e as AWSError {
            CLI.fail("could not reach \(base): \(e.message). Is `otter up` running (or the stack deployed)?")
        } catch {
            CLI.fail("could not reach \(base): \(error)")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        guard (200..<300).contains(response.status), let object else {
            if let err = object?["error"] as? [String: Any] {
                CLI.fail("\(method) \(path) failed (\(response.status) \(err["code"] ?? "")): \(err["message"] ?? "")")
            }
            CLI.fail("\(method) \(path) failed with HTTP \(response.status): \(response.bodyText.prefix(300))")
        }
        return object
    }
}
