import OtterClient
import OtterCore

/// A first room link after a deploy, by calling the deployed API itself.
enum SampleRoom {
    static func create(apiURL: String?, key: String?, console: Console, stack: String) async -> String? {
        let howTo = "create one with `otter create-room --stack \(stack)` once it answers"
        guard let apiURL, let key else {
            console.say("Sample room: no API key on this machine; \(howTo) (pass --api-key)")
            return nil
        }
        do {
            let room = try await OtterAPIClient(baseURL: apiURL, key: key, totalTimeout: .seconds(15)).createRoom(maxPeers: RoomRules.defaultMaxPeers)
            return room["url"] as? String
        } catch {
            console.say("Sample room: \(error.message); \(howTo)")
            return nil
        }
    }
}
