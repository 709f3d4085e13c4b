import Foundation

/// The data folder (`--data-dir`, `.otter` by default) and the name of every
/// file Otter keeps in it:
///
/// - `otter.sqlite` (+ `-wal`, `-shm`): `otter up`'s rooms and secrets;
/// - `api-key`: the key `otter up` showed, for the CLI on this machine;
/// - `up.json`: where the last `otter up` listens;
/// - `<stack>.json`, `<stack>.api-key`, `<stack>.deploy.log`: what `otter deploy` left.
///
/// `up.json` shares the folder with the stacks' files, which is why no stack
/// may be called `up` (OtterStackOptions refuses it) and why `deployedStacks`
/// never lists it.
public struct LocalState: Sendable, Equatable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// Whose API key a file holds.
    public enum Owner: Sendable, Equatable {
        case up
        case stack(String)
    }

    /// The name `otter up`'s own file takes among the stacks' (`up.json`).
    public static let upName = "up"

    public var database: String { path("otter.sqlite") }
    public var upEndpoint: String { path(Self.upName + ".json") }
    public func deployRecord(stack: String) -> String { path(stack + ".json") }
    /// Every line of the last `otter deploy`, stack events included.
    public func deployLog(stack: String) -> String { path(stack + ".deploy.log") }

    public func apiKey(for owner: Owner) -> String {
        switch owner {
        case .up: path("api-key")
        case .stack(let name): path(name + ".api-key")
        }
    }

    /// The stacks with a deploy record here, sorted.
    public var deployedStacks: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") && $0 != Self.upName + ".json" }.map { String($0.dropLast(5)) }.sorted()
    }

    /// Creates the folder (0700: it holds keys and secrets) if it is missing.
    public func create() throws(LocalStateError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw LocalStateError(.cannotWrite, "cannot create \(directory) (\(error.localizedDescription)). Check its parent's permissions, or pass another --data-dir.")
        }
    }

    /// Stores a key readable by its owner only: the file is 0600 before the
    /// key is written, and replaces the old one at once.
    public func saveAPIKey(_ key: String, for owner: Owner) throws(LocalStateError) {
        try create()
        let target = apiKey(for: owner), temporary = target + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
              chmod(temporary, 0o600) == 0 else {
            throw LocalStateError(.cannotWrite, "cannot write the API key to \(target) (\(String(cString: strerror(errno)))). Check the folder's permissions.")
        }
        do {
            try Data((key + "\n").utf8).write(to: URL(fileURLWithPath: temporary))
        } catch {
            unlink(temporary)
            throw LocalStateError(.cannotWrite, "cannot write the API key to \(target) (\(error.localizedDescription)). Check the folder's permissions.")
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw LocalStateError(.cannotWrite, "cannot write the API key to \(target) (\(reason)). Check the folder's permissions.")
        }
    }

    public func loadAPIKey(for owner: Owner) -> String? {
        guard let data = FileManager.default.contents(atPath: apiKey(for: owner)) else { return nil }
        let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return key.isEmpty ? nil : key
    }

    /// Records where `otter up` listens, so `otter create-room` and `otter
    /// rotate-key` find it without flags.
    public func saveUpEndpoint(apiURL: String) throws(LocalStateError) {
        try create()
        do {
            let data = try JSONSerialization.data(withJSONObject: ["apiUrl": apiURL], options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: upEndpoint))
        } catch {
            throw LocalStateError(.cannotWrite, "cannot write \(upEndpoint) (\(error.localizedDescription)). Check the folder's permissions.")
        }
    }

    public func loadUpEndpoint() -> String? {
        guard let data = FileManager.default.contents(atPath: upEndpoint),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["apiUrl"] as? String
    }

    /// Forgets a stack: its record, key and deploy log.
    public func removeDeploy(stack: String) {
        for file in [deployRecord(stack: stack), apiKey(for: .stack(stack)), deployLog(stack: stack)] {
            try? FileManager.default.removeItem(atPath: file)
        }
    }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
}

/// Why the data folder could not be written, with what to do about it.
public struct LocalStateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case cannotWrite = "cannot-write"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
