import Foundation

/// Where the last `otter up` in this data folder listens, so `otter create-room`
/// and `otter rotate-key` find it without flags.
enum LocalEndpoint {
    static func path(dataDirectory: String) -> String { (dataDirectory as NSString).appendingPathComponent("up.json") }

    static func save(apiURL: String, dataDirectory: String) throws {
        let data = try JSONSerialization.data(withJSONObject: ["apiUrl": apiURL], options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: path(dataDirectory: dataDirectory)))
    }

    static func load(dataDirectory: String) -> String? {
        guard let d = FileManager.default.contents(atPath: path(dataDirectory: dataDirectory)),
              let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else { return nil }
        return o["apiUrl"] as? String
    }
}
