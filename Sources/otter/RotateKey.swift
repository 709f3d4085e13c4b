import ArgumentParser
import Foundation
import OtterDeploy

/// `otter rotate-key`: a new API key; the old one stops working at once.
struct RotateKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Replace the API key. The old key is refused from now on; room links keep working."
    )

    @OptionGroup var api: APIClientOptions

    func run() async throws {
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
        if api.json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: ["apiKey": newKey]), as: UTF8.self))
        } else {
            print("New API key: \(newKey)")
            print(savedTo.map { "Saved to \($0). The old key no longer works." }
                  ?? "Store it now: it is not shown again. The old key no longer works.")
        }
    }
}
