import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// TURN REST API credentials, the scheme of coturn's `use-auth-secret`:
/// username `"<expiry-unix>:<user>"`, password `base64(HMAC-SHA1(secret, username))`.
public struct TurnCredentials: Sendable, Equatable, Codable {
    public var username: String
    public var credential: String

    public init(username: String, credential: String) {
        self.username = username
        self.credential = credential
    }

    /// How long credentials last unless configured otherwise (Templates/limits.json "iceTTLSeconds").
    public static let defaultTTL: TimeInterval = 3600

    /// Credentials for `user` valid until `now + ttl`.
    public static func make(secret: String, user: String, ttl: TimeInterval, now: Date = Date()) -> TurnCredentials {
        let expiry = Int(now.timeIntervalSince1970 + ttl)
        let username = "\(expiry):\(user)"
        return TurnCredentials(username: username, credential: password(secret: secret, username: username))
    }

    public static func password(secret: String, username: String) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(username.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// The expiry a REST username carries: coturn accepts `expiry`, `expiry:user`
    /// and `user:expiry`; the timestamp is the part that is all digits.
    public static func expiry(ofUsername username: String) -> Date? {
        let parts = username.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        for part in parts where !part.isEmpty && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) {
            if let t = Double(part) { return Date(timeIntervalSince1970: t) }
        }
        return nil
    }
}
