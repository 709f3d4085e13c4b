import Crypto
import Foundation

/// Random secrets and keys. Every secret Otter generates comes from here.
public enum Secrets {
    /// `count` bytes from the system's CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
    }

    /// A new random secret as base64url text (signing and TURN secrets).
    public static func newSecret(bytes: Int = 32) -> String {
        Base64URL.encode(randomBytes(bytes))
    }

    /// A room id: 16 random bytes, base64url — unguessable, URL-safe.
    public static func newRoomID() -> String {
        Base64URL.encode(randomBytes(16))
    }

    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEquals<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }
}
