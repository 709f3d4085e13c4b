import Foundation

/// Where settings are read from: the process environment and the AWS files.
/// A value type so tests can hand in their own environment and home folder.
public struct AWSEnvironment: Sendable {
    public var variables: [String: String]
    public var homeDirectory: String

    /// `homeDirectory` defaults to `HOME`, as the AWS CLI and SDKs read it; the
    /// password database's home (NSHomeDirectory on Linux) only when HOME is unset.
    public init(variables: [String: String] = ProcessInfo.processInfo.environment,
                homeDirectory: String? = nil) {
        self.variables = variables
        let home = variables["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        self.homeDirectory = homeDirectory ?? home ?? NSHomeDirectory()
    }

    public subscript(name: String) -> String? {
        guard let v = variables[name], !v.isEmpty else { return nil }
        return v
    }

    var credentialsFilePath: String {
        expand(self["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials")
    }

    var configFilePath: String {
        expand(self["AWS_CONFIG_FILE"] ?? "~/.aws/config")
    }

    func expand(_ path: String) -> String {
        path.hasPrefix("~/") ? homeDirectory + path.dropFirst() : path
    }

    func readINI(_ path: String) -> INIFile? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return INIFile(text: String(decoding: data, as: UTF8.self))
    }
}
