import Foundation
import OtterAWS
import OtterCore

/// The deployed API's key: generated on the first deploy, stored as its
/// SHA-256 with a conditional put, so a redeploy never replaces it.
struct APIKeyProvisioner: Sendable {
    let dynamo: DynamoDB
    let console: Console

    /// The new key when this call created it; nil when one already exists.
    func ensure(table: String) async throws -> String? {
        let key = APIKey.generate()
        let created = try await dynamo.putItemIfAbsent(table: table, keyName: "id", item: [
            "id": "apiKey", "hash": key.hash, "createdAt": ISO8601DateFormatter().string(from: Date()),
        ])
        return created ? key.value : nil
    }
}
