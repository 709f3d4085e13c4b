import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import OtterTurnCredentials

/// Long-term credential checks (RFC 8489 §9.2): realm, stateless nonces that
/// expire, and the two user sources coturn has (REST shared secrets, static users).
struct Authenticator {
    let realm: String
    let useAuthSecret: Bool
    let secrets: [String]
    /// Precomputed keys of static users: MD5(name:realm:password).
    let userKeys: [String: [UInt8]]
    let nonceLifetime: Int
    /// Per-process key for nonces: a nonce is its expiry plus a MAC of it, so
    /// no state is kept per client and a forged nonce is recognised.
    private let nonceKey = SymmetricKey(size: .bits256)

    init(configuration c: RelayConfiguration) {
        realm = c.realm
        useAuthSecret = c.useAuthSecret
        secrets = c.staticAuthSecrets
        var keys: [String: [UInt8]] = [:]
        for (name, password) in c.users {
            if password.hasPrefix("0x"), password.count == 34, let key = Self.hexBytes(password.dropFirst(2)) {
                keys[name] = key
            } else {
                keys[name] = STUNIntegrity.longTermKey(username: name, realm: c.realm, password: password)
            }
        }
        userKeys = keys
        nonceLifetime = c.nonceLifetime
    }

    static func hexBytes(_ s: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var it = s.makeIterator()
        while let h = it.next() {
            guard let l = it.next(), let b = UInt8(String([h, l]), radix: 16) else { return nil }
            out.append(b)
        }
        return out
    }

    func makeNonce(now: Date = Date()) -> String {
        let expiry = String(UInt64(now.timeIntervalSince1970) + UInt64(nonceLifetime), radix: 16)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(expiry.utf8), using: nonceKey)
        return expiry + "-" + PlainText.hex(mac.prefix(12))
    }

    enum NonceState { case valid, stale }

    /// A nonce we did not make, or one past its expiry, is stale: the client
    /// retries with the fresh nonce of the 438 answer.
    func checkNonce(_ nonce: String, now: Date = Date()) -> NonceState {
        let parts = nonce.split(separator: "-")
        guard parts.count == 2, parts[0].count <= 16, let expiry = UInt64(parts[0], radix: 16) else { return .stale }
        let mac = HMAC<SHA256>.authenticationCode(for: Data(parts[0].utf8), using: nonceKey)
        let want = PlainText.hex(mac.prefix(12))
        guard STUNIntegrity.constantTimeEqual(Array(want.utf8), Array(parts[1].utf8)) else { return .stale }
        return UInt64(now.timeIntervalSince1970) < expiry ? .valid : .stale
    }

    enum KeyLookup { case keys([[UInt8]]), expired, unknown }

    /// The candidate keys for a username: one per shared secret (rotation) or the static user's key.
    func keys(for username: String, now: Date = Date()) -> KeyLookup {
        var out: [[UInt8]] = []
        if useAuthSecret, let expiry = TurnCredentials.expiry(ofUsername: username) {
            if expiry <= now {
                if userKeys[username] == nil { return .expired }
            } else {
                for s in secrets {
                    let password = TurnCredentials.password(secret: s, username: username)
                    out.append(STUNIntegrity.longTermKey(username: username, realm: realm, password: password))
                }
            }
        }
        if let k = userKeys[username] { out.append(k) }
        return out.isEmpty ? .unknown : .keys(out)
    }
}
