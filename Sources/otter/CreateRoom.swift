import ArgumentParser
import Foundation
import OtterCore

/// `otter create-room`: a new room and its link.
struct CreateRoom: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-room",
        abstract: "Create a room on the local or deployed API and print its link."
    )

    @OptionGroup var api: APIClientOptions

    @Option(help: "How many people may join (2-4).")
    var maxPeers = RoomRules.defaultMaxPeers

    @Option(help: "How long the link works, e.g. 30m, 12h, 2d; from 1m to 30d.")
    var ttl = "48h"

    func validate() throws {
        guard RoomRules.peerRange.contains(maxPeers) else { throw ValidationError("--max-peers must be 2, 3 or 4") }
        guard let seconds = Duration.parseTTL(ttl) else { throw ValidationError("--ttl must look like 90s, 30m, 12h or 2d") }
        // The server's bounds (RoomRules), checked here so a bad value fails before any call.
        let bounds = Int(RoomRules.minTTL)...Int(RoomRules.maxTTL)
        guard bounds.contains(seconds) else {
            throw ValidationError("--ttl must be from 1m to 30d (a link shorter than a minute cannot be opened in time); got \(ttl)")
        }
    }

    func run() async throws {
        let (url, key, _) = await api.resolve()
        let room = await api.send(url, key: key) { try await $0.createRoom(maxPeers: maxPeers, ttlSeconds: Duration.parseTTL(ttl)!) }
        if api.json {
            let data = try JSONSerialization.data(withJSONObject: room, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let expires = (room["expiresAt"] as? Int).map { Date(timeIntervalSince1970: TimeInterval($0)) }
            print("Room: \(room["roomId"] ?? "")")
            print("Link: \(room["url"] ?? "")")
            if let e = expires { print("Expires: \(ISO8601DateFormatter().string(from: e))") }
        }
    }
}

extension Duration {
    /// Seconds in "90s", "30m", "12h", "2d" (or a bare number of seconds).
    static func parseTTL(_ s: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let n = Int(s), n > 0 { return n }
        guard let unit = s.last, let mult = units[unit], let n = Int(s.dropLast()), n > 0 else { return nil }
        return n * mult
    }
}
