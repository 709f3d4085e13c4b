import Foundation

/// Where settings are read from: the process environment and the AWS files.
/// A value type so tests can hand in their own environment and home folder.
public struct AWSEnvironment: Sendable {
    public var variables: [String: String]
    public var homeDirectory: String

    public init(variables: [String: String] = ProcessInfo.processInfo.environment,
                homeDirectory: String = NSHomeDirectory()) {
        self.variables = variables
        self.homeDirectory = homeDirectory
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
