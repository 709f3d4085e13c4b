import ArgumentParser
import Foundation
import OtterClient
import OtterDeploy
import OtterLocalState

/// How `create-room` and `rotate-key` find the API: flags, then
/// OTTER_API_URL/OTTER_API_KEY, then the state `otter up` left in --data-dir.
struct APIClientOptions: ParsableArguments {
    @Option(help: "API base URL (default: OTTER_API_URL, or the local `otter up`).")
    var apiURL: String?

    @Option(help: "API key (default: OTTER_API_KEY, or the key `otter up` stored).")
    var apiKey: String?

    @Option(help: "Folder `otter up` and `otter deploy` keep their state in.")
    var dataDir = ".otter"

    @Option(help: "Use the stack `otter deploy` saved in --data-dir (default: the local `otter up`, else the only deployed stack).")
    var stack: String?

    @Flag(help: "Print JSON for scripts.")
    var json = false

    /// The API and key to use, and a line on stderr saying which target was chosen and why.
    /// A local `otter up` that no longer answers is passed over for the only deployed stack.
    func resolve() async -> (url: String, key: String, keySource: KeySource) {
        let env = ProcessInfo.processInfo.environment
        let folder = LocalState(directory: dataDir)
        let deployed = deployedStack()
        var local = stack == nil ? folder.loadUpEndpoint() : nil
        let explicit = apiURL ?? env["OTTER_API_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if explicit == nil, let l = local, await !OtterAPIClient.answers(l, within: .seconds(2)) {
            guard deployed != nil else {
                CLI.fail("the local `otter up` recorded in \(folder.upEndpoint) (\(l)) is not running. Start it with `otter up`, or pass --api-url.")
            }
            CLI.note("the local `otter up` at \(l) is not running; using the deployed stack \(deployed!.stack).")
            local = nil
        }
        guard let url = explicit ?? local ?? deployed?.apiURL else {
            if let stack {
                CLI.fail("no deployed stack \(stack) in \(dataDir) (run `otter deploy --stack \(stack)` first), and no --api-url/OTTER_API_URL.")
            }
            CLI.fail("no API to talk to. Start one with `otter up`, deploy one with `otter deploy`, or pass --api-url (or set OTTER_API_URL).")
        }
        let why = apiURL != nil ? "--api-url" : explicit != nil ? "OTTER_API_URL"
            : url == local ? "the local `otter up`, \(folder.upEndpoint)" : "stack \(deployed?.stack ?? "?"), \(dataDir)"
        CLI.note("using \(url) (\(why))")
        if let k = apiKey { return (url, k, .flag) }
        if let k = env["OTTER_API_KEY"], !k.isEmpty { return (url, k, .environment) }
        if local != nil, url == local, let k = folder.loadAPIKey(for: .up) { return (url, k, .localFile) }
        if let deployed, url == deployed.apiURL, let k = folder.loadAPIKey(for: .stack(deployed.stack)) {
            return (url, k, .deployFile(deployed.stack))
        }
        CLI.fail("no API key for \(url). Pass --api-key or set OTTER_API_KEY (the key is kept only where `otter up` or `otter deploy` showed it).")
    }

    /// `--stack`'s saved deploy, or the only one when there is no local `otter up`.
    private func deployedStack() -> DeployState? {
        if let stack { return DeployState.load(dataDirectory: dataDir, stack: stack) }
        let all = DeployState.all(dataDirectory: dataDir).filter { $0.apiURL != nil }
        return all.count == 1 ? all[0] : nil
    }

    enum KeySource: Equatable { case flag, environment, localFile, deployFile(String) }

    /// One call through the API client; a failure ends the command with its message.
    func send<T>(_ url: String, key: String, _ call: (OtterAPIClient) async throws -> T) async -> T {
        do {
            return try await call(OtterAPIClient(baseURL: url, key: key))
        } catch let e as OtterAPIError where e.code == .unreachable {
            CLI.fail("\(e.message). Is `otter up` running (or the stack deployed)?")
        } catch {
            CLI.fail("\(error)")
        }
    }
}
