import Foundation
import OtterLocalState

/// `.otter/<stack>.json`: what a deploy left, for `create-room`,
/// `rotate-key` and `destroy`. Public endpoints only; the API key lives in
/// `.otter/<stack>.api-key`, mode 0600. LocalState names both.
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

    public static func load(dataDirectory: String, stack: String) -> DeployState? {
        guard let data = FileManager.default.contents(atPath: LocalState(directory: dataDirectory).deployRecord(stack: stack)) else { return nil }
        return try? JSONDecoder().decode(DeployState.self, from: data)
    }

    /// Every saved deploy in `dataDirectory`.
    public static func all(dataDirectory: String) -> [DeployState] {
        LocalState(directory: dataDirectory).deployedStacks.compactMap { load(dataDirectory: dataDirectory, stack: $0) }
    }

    public func save(dataDirectory: String) throws {
        let folder = LocalState(directory: dataDirectory)
        try folder.create()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: folder.deployRecord(stack: stack)), options: .atomic)
    }
}
