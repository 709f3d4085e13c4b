import ArgumentParser
import Foundation
import OtterCore
import OtterDeploy
import OtterServer

/// `otter rotate-key`: a new API key; the old one stops working at once.
struct RotateKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Replace the API key. The old key is refused from now on; room links keep working."
    )

    @OptionGroup var api: APIClientOptions

    func run() async throws {
        if canOnlyRotateLocally { return try rotateLocally() }
        let (url, key, source) = await api.resolve()
        let result = await api.call("POST", url, path: "/keys/rotate", key: key)
        guard let newKey = result["apiKey"] as? String else { CLI.fail("the API answered without a new key") }
        var savedTo: String?
        switch source {
        case .localFile:
            try? APIKeyFile.save(newKey, dataDirectory: api.dataDir)
            savedTo = APIKeyFile.path(dataDirectory: api.dataDir)
        case .deployFile(let stack):
            do {
                try DeployState.saveKey(newKey, dataDirectory: api.dataDir, stack: stack)
                savedTo = DeployState.keyPath(dataDirectory: api.dataDir, stack: stack)
            } catch {
                CLI.warn("could not save the new key (\(error)); store it yourself now")
            }
        case .flag, .environment:
            break
        }
        try show(newKey, savedTo: savedTo)
    }

    /// No key anywhere (flag, environment, the file `otter up` keeps) but the
    /// local state is here: the key was lost, and only its hash can be replaced.
    private var canOnlyRotateLocally: Bool {
        let env = ProcessInfo.processInfo.environment
        return api.apiKey == nil && (env["OTTER_API_KEY"] ?? "").isEmpty && api.apiURL == nil && api.stack == nil
            && APIKeyFile.load(dataDirectory: api.dataDir) == nil
            && FileManager.default.fileExists(atPath: (api.dataDir as NSString).appendingPathComponent("otter.sqlite"))
    }

    /// Replaces the hash in `otter up`'s own state, without the old key:
    /// whoever can write the data directory holds every secret already. A
    /// running `otter up` checks the stored hash on each request, so the new
    /// key works there at once.
    private func rotateLocally() throws {
        umask(0o077)
        let key = APIKey.generate()
        do {
            let store = try StateStore(dataDirectory: api.dataDir)
            try store.setAPIKeyHash(key.hash) { try APIKeyFile.save(key.value, dataDirectory: api.dataDir) }
        } catch {
            CLI.fail("could not replace the API key in \(api.dataDir) (\(error)). Check the folder's permissions.")
        }
        try show(key.value, savedTo: APIKeyFile.path(dataDirectory: api.dataDir))
    }

    private func show(_ newKey: String, savedTo: String?) throws {
        if api.json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: ["apiKey": newKey]), as: UTF8.self))
        } else {
            print("New API key: \(newKey)")
            print(savedTo.map { "Saved to \($0). The old key no longer works." }
                  ?? "Store it now: it is not shown again. The old key no longer works.")
        }
    }
}
