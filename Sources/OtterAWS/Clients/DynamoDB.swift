import Foundation

/// DynamoDB: the two item calls `otter deploy` needs on the config table.
public struct DynamoDB: Sendable {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    /// Writes string attributes only if no item with that key exists yet.
    /// Returns false (and writes nothing) when one does.
    public func putItemIfAbsent(table: String, keyName: String, item: [String: String]) async throws -> Bool {
        do {
            _ = try await client.json(.dynamoDB, action: "PutItem", [
                "TableName": table,
                "Item": item.mapValues { ["S": $0] },
                "ConditionExpression": "attribute_not_exists(#k)",
                "ExpressionAttributeNames": ["#k": keyName],
            ])
            return true
        } catch let e as AWSError where e.serviceCode == "ConditionalCheckFailedException" {
            return false
        }
    }

    /// The string attributes of an item, or nil when there is none (read consistently).
    public func getItem(table: String, key: [String: String]) async throws -> [String: String]? {
        let r = try await client.json(.dynamoDB, action: "GetItem", [
            "TableName": table, "Key": key.mapValues { ["S": $0] }, "ConsistentRead": true,
        ])
        guard let item = r["Item"] as? [String: Any] else { return nil }
        var out: [String: String] = [:]
        for (name, value) in item {
            if let v = value as? [String: Any], let s = v["S"] as? String { out[name] = s }
        }
        return out
    }
}
