import Foundation
import GRDB
import OtterCore
import OtterLocalState

/// A room as stored: the token carries the same facts, signed.
public struct StoredRoom: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "rooms"
    public var id: String
    public var maxPeers: Int
    public var createdAt: Int
    public var expiresAt: Int

    public init(id: String, maxPeers: Int, createdAt: Int, expiresAt: Int) {
        self.id = id
        self.maxPeers = maxPeers
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// The secrets `otter up` generates once and keeps across restarts.
public struct ServerSecrets: Sendable, Equatable {
    public var signingSecret: String
    public var turnSecret: String
    public var apiKeyHash: String
}

/// All of `otter up`'s state in one SQLite file under the data directory:
/// rooms with their expiry, the API key's hash, the signing and TURN secrets.
public final class StateStore: Sendable {
    let db: DatabaseQueue
    public let path: String

    /// Opens (creating if needed) `<dataDir>/otter.sqlite`. The directory is
    /// made private: it holds the signing and TURN secrets.
    public init(dataDirectory: String) throws {
        let folder = LocalState(directory: dataDirectory)
        try folder.create()
        path = folder.database
        var config = Configuration()
        config.busyMode = .timeout(5)
        // WAL + synchronous=NORMAL: a room insert no longer waits for an fsync
        // of the whole database (POST /rooms went from ~24 ms to a fraction of
        // that); a power cut can lose only the last commits. The folder is 0700,
        // so the -wal/-shm files are as private as the database.
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        db = try DatabaseQueue(path: path, configuration: config)
        try Self.migrator.migrate(db)
        // The -wal/-shm files (made by the first write) follow the umask;
        // `otter up` sets 077, this covers any other caller.
        for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
    }

    /// An in-memory store for tests.
    public init() throws {
        path = ":memory:"
        db = try DatabaseQueue()
        try Self.migrator.migrate(db)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "settings") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
            try db.create(table: "rooms") { t in
                t.primaryKey("id", .text)
                t.column("maxPeers", .integer).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("expiresAt", .integer).notNull().indexed()
            }
        }
        return m
    }

    // MARK: Secrets and API key

    /// Loads the secrets, creating them on first start. Returns the new API
    /// key only when it was just generated (it is shown once and never stored).
    /// - Parameter saveNewKey: keeps a new key where its owner finds it; it
    ///   runs inside the transaction, so if it throws nothing is committed and
    ///   no hash can exist whose key was never kept.
    public func bootstrap(saveNewKey: (APIKey) throws -> Void = { _ in }) throws -> (secrets: ServerSecrets, newAPIKey: APIKey?) {
        try db.write { db in
            func get(_ k: String) throws -> String? { try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [k]) }
            func set(_ k: String, _ v: String) throws { try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", arguments: [k, v]) }
            var newKey: APIKey?
            if try get("signingSecret") == nil { try set("signingSecret", Secrets.newSecret()) }
            if try get("turnSecret") == nil { try set("turnSecret", Secrets.newSecret()) }
            if try get("apiKeyHash") == nil {
                let key = APIKey.generate()
                try set("apiKeyHash", key.hash)
                try saveNewKey(key)
                newKey = key
            }
            let secrets = ServerSecrets(signingSecret: try get("signingSecret")!, turnSecret: try get("turnSecret")!, apiKeyHash: try get("apiKeyHash")!)
            return (secrets, newKey)
        }
    }

    public func apiKeyHash() throws -> String? {
        try db.read { try String.fetchOne($0, sql: "SELECT value FROM settings WHERE key = 'apiKeyHash'") }
    }

    /// Replaces the stored hash whatever it was: the local recovery of a lost
    /// key by whoever can write the data directory (who holds every secret anyway).
    public func setAPIKeyHash(_ newHash: String, saveNewKey: () throws -> Void) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES ('apiKeyHash', ?)", arguments: [newHash])
            try saveNewKey()
        }
    }

    /// Replaces the stored hash only if it is still `oldHash`, so two rotations
    /// racing cannot both win.
    public func replaceAPIKeyHash(old oldHash: String, new newHash: String) throws -> Bool {
        try db.write { db in
            try db.execute(sql: "UPDATE settings SET value = ? WHERE key = 'apiKeyHash' AND value = ?", arguments: [newHash, oldHash])
            return db.changesCount == 1
        }
    }

    // MARK: Rooms

    public func insert(_ room: StoredRoom) throws {
        try db.write { try room.insert($0) }
    }

    public func room(id: String) throws -> StoredRoom? {
        try db.read { try StoredRoom.fetchOne($0, key: id) }
    }

    /// Deletes rooms whose expiry has passed; returns how many.
    @discardableResult
    public func sweepExpiredRooms(now: Date = Date()) throws -> Int {
        try db.write { db in
            try db.execute(sql: "DELETE FROM rooms WHERE expiresAt <= ?", arguments: [Int(now.timeIntervalSince1970)])
            return db.changesCount
        }
    }

    public func roomCount() throws -> Int {
        try db.read { try StoredRoom.fetchCount($0) }
    }
}
