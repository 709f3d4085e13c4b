import Foundation

/// `.otter/<stack>.json`: what a deploy left, for `create-room`,
/// `rotate-key` and `destroy`. Public endpoints only; the API key lives in
/// `.otter/<stack>.api-key`, mode 0600.
public struct DeployState: Codable, Sendable, Equatable {
    public var stack: String
    public var region: String
    public var account: String
    public var stackID: String?
    public var status: String
    public var apiURL: String?
    public var signalURL: String?
    public var webAppURL: String?
    public var artifactsBucket: String
    public var updatedAt: String

    public init(stack: String, region: String, account: String, stackID: String?, status: String, apiURL: String? = nil,
                signalURL: String? = nil, webAppURL: String? = nil, artifactsBucket: String) {
        self.stack = stack
        self.region = region
        self.account = account
        self.stackID = stackID
        self.status = status
        self.apiURL = apiURL
        self.signalURL = signalURL
        self.webAppURL = webAppURL
        self.artifactsBucket = artifactsBucket
        self.updatedAt = ISO8601DateFormatter().string(from: Date())
    }

    public static func path(dataDirectory: String, stack: String) -> String { "\(dataDirectory)/\(stack).json" }
    public static func keyPath(dataDirectory: String, stack: String) -> String { "\(dataDirectory)/\(stack).api-key" }
    /// Every line of the last `otter deploy`, stack events included.
    public static func logPath(dataDirectory: String, stack: String) -> String { "\(dataDirectory)/\(stack).deploy.log" }

    public static func load(dataDirectory: String, stack: String) -> DeployState? {
        guard let data = FileManager.default.contents(atPath: path(dataDirectory: dataDirectory, stack: stack)) else { return nil }
        return try? JSONDecoder().decode(DeployState.self, from: data)
    }

    /// Every saved deploy in `dataDirectory`.
    public static func all(dataDirectory: String) -> [DeployState] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory)) ?? []
        return names.filter { $0.hasSuffix(".json") && $0 != "up.json" }.sorted().compactMap {
            load(dataDirectory: dataDirectory, stack: String($0.dropLast(5)))
        }
    }

    public func save(dataDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(dataDirectory: dataDirectory, stack: stack)), options: .atomic)
    }

    public static func saveKey(_ key: String, dataDirectory: String, stack: String) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let path = keyPath(dataDirectory: dataDirectory, stack: stack)
        // Created 0600 before the key is written, so it is never readable by others.
        FileManager.default.createFile(atPath: path + ".tmp", contents: nil, attributes: [.posixPermissions: 0o600])
        try Data((key + "\n").utf8).write(to: URL(fileURLWithPath: path + ".tmp"))
        guard rename(path + ".tmp", path) == 0 else {
            throw DeployError(.missingFiles, "cannot write the API key to \(path) (errno \(errno))")
        }
    }

    public static func loadKey(dataDirectory: String, stack: String) -> String? {
        guard let data = FileManager.default.contents(atPath: keyPath(dataDirectory: dataDirectory, stack: stack)) else { return nil }
        let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return key.isEmpty ? nil : key
    }

    public static func remove(dataDirectory: String, stack: String) {
        try? FileManager.default.removeItem(atPath: path(dataDirectory: dataDirectory, stack: stack))
        try? FileManager.default.removeItem(atPath: keyPath(dataDirectory: dataDirectory, stack: stack))
        try? FileManager.default.removeItem(atPath: logPath(dataDirectory: dataDirectory, stack: stack))
    }
}
