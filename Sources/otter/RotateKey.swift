import ArgumentParser
import Foundation
import OtterCore
import OtterLocalState
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
        let newKey = await api.send(url, key: key) { try await $0.rotateKey() }
        let folder = LocalState(directory: api.dataDir)
        var savedTo: String?
        switch source {
        case .localFile:
            try? folder.saveAPIKey(newKey, for: .up)
            savedTo = folder.apiKey(for: .up)
        case .deployFile(let stack):
            do {
                try folder.saveAPIKey(newKey, for: .stack(stack))
                savedTo = folder.apiKey(for: .stack(stack))
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
            && LocalState(directory: api.dataDir).loadAPIKey(for: .up) == nil
            && FileManager.default.fileExists(atPath: LocalState(directory: api.dataDir).database)
    }

    /// Replaces the hash in `otter up`'s own state, without the old key:
    /// whoever can write the data directory holds every secret already. A
    /// running `otter up` checks the stored hash on each request, so the new
    /// key works there at once.
    private func rotateLocally() throws {
        umask(0o077)
        let key = APIKey.generate()
        let folder = LocalState(directory: api.dataDir)
        do {
            let store = try StateStore(dataDirectory: api.dataDir)
            try store.setAPIKeyHash(key.hash) { try folder.saveAPIKey(key.value, for: .up) }
        } catch {
            CLI.fail("could not replace the API key in \(api.dataDir) (\(error)). Check the folder's permissions.")
        }
        try show(key.value, savedTo: folder.apiKey(for: .up))
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
