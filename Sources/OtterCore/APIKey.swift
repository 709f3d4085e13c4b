import Crypto
import Foundation

/// API keys: random, shown once, stored only as a SHA-256 hash.
public struct APIKey: Sendable, Equatable {
    public let value: String

    public init(value: String) { self.value = value }

    /// A new key of 32 random bytes, base64url (43 characters), prefixed so a
    /// leaked key is recognisable in a secret scanner.
    public static func generate() -> APIKey {
        APIKey(value: "otk_" + Base64URL.encode(Secrets.randomBytes(32)))
    }

    /// Lowercase hex SHA-256 of the key: the only form that is stored.
    public var hash: String { APIKey.hash(of: value) }

    public static func hash(of key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// True when `presented` hashes to `storedHash`, compared in constant time.
    public static func matches(_ presented: String, storedHash: String) -> Bool {
        Secrets.constantTimeEquals(Array(hash(of: presented).utf8), Array(storedHash.utf8))
    }
}
