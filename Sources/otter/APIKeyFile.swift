import Foundation

/// `otter up` keeps the API key it showed in `<data-dir>/api-key` (mode 0600)
/// so `otter create-room` works on this machine without copying it around.
enum APIKeyFile {
    static func path(dataDirectory: String) -> String { (dataDirectory as NSString).appendingPathComponent("api-key") }

    static func save(_ key: String, dataDirectory: String) throws {
        let p = path(dataDirectory: dataDirectory)
        FileManager.default.createFile(atPath: p, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600])
    }

    static func load(dataDirectory: String) -> String? {
        guard let d = FileManager.default.contents(atPath: path(dataDirectory: dataDirectory)) else { return nil }
        let s = String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? nil : s
    }
}
