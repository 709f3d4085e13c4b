import Foundation

/// `otter up` keeps the API key it showed in `<data-dir>/api-key` (mode 0600)
/// so `otter create-room` works on this machine without copying it around.
enum APIKeyFile {
    static func path(dataDirectory: String) -> String { (dataDirectory as NSString).appendingPathComponent("api-key") }

    /// Throws when the key is not safely on disk, so the caller can refuse
    /// to commit a hash nobody holds the key for.
    static func save(_ key: String, dataDirectory: String) throws {
        let p = path(dataDirectory: dataDirectory)
        try Data((key + "\n").utf8).write(to: URL(fileURLWithPath: p), options: .atomic)
        guard chmod(p, 0o600) == 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: p]) }
    }

    static func load(dataDirectory: String) -> String? {
        guard let d = FileManager.default.contents(atPath: path(dataDirectory: dataDirectory)) else { return nil }
        let s = String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? nil : s
    }
}
