/// DynamoDB tables and generated secrets.
struct DataStores {
    var tables: [OtterTable: Handle<DynamoDBTable>] = [:]
    var secrets: [OtterSecret: Handle<GeneratedSecret>] = [:]

    /// GSI of the connections table: the connections of one room.
    static let roomIndex = "byRoom"

    static func add(to t: inout Template, stackName: String) -> DataStores {
        var d = DataStores()
        // `otter destroy` removes everything the stack made; nothing here is kept
        // past the stack (state is rooms and connections that expire anyway, and
        // an API key that deploy can issue again).
        d.tables[.connections] = t.add(OtterTable.connections.rawValue, DynamoDBTable(
            hashKey: "connectionId", indexes: [.init(name: roomIndex, hashKey: "roomId")], ttlAttribute: "expiresAt"),
            removal: .delete)
        d.tables[.rooms] = t.add(OtterTable.rooms.rawValue, DynamoDBTable(hashKey: "roomId", ttlAttribute: "expiresAt"),
                                 removal: .delete)
        // Item {"id": "apiKey", "hash": <sha256 hex>}.
        d.tables[.config] = t.add(OtterTable.config.rawValue, DynamoDBTable(hashKey: "id"), removal: .delete)
        d.secrets[.signing] = t.add(OtterSecret.signing.rawValue, GeneratedSecret(
            description: "Otter \(stackName): HS256 signing secret of room tokens", length: 64))
        d.secrets[.turn] = t.add(OtterSecret.turn.rawValue, GeneratedSecret(
            description: "Otter \(stackName): TURN REST shared secret (static-auth-secret)", length: 48))
        return d
    }
}
