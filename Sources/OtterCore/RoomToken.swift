import Foundation
import JWTKit

/// The claims of a room token (DESIGN.md "Room token").
public struct RoomClaims: JWTPayload, Equatable {
    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var sub: SubjectClaim
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    public var maxPeers: Int

    public static let issuer = "otter"
    public static let audience = "otter-room"

    public init(roomID: String, maxPeers: Int, issuedAt: Date, expiresAt: Date) {
        self.iss = IssuerClaim(value: Self.issuer)
        self.aud = AudienceClaim(value: Self.audience)
        self.sub = SubjectClaim(value: roomID)
        self.iat = IssuedAtClaim(value: issuedAt)
        self.exp = ExpirationClaim(value: expiresAt)
        self.maxPeers = maxPeers
    }

    public var roomID: String { sub.value }
    public var expiresAt: Date { exp.value }

    /// Expiry is checked by `RoomTokens.verify` against its own clock so tests
    /// and callers control time; here only the static claims.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        guard iss.value == Self.issuer else { throw OtterError(.badToken, "token issuer is not otter") }
        try aud.verifyIntendedAudience(includes: Self.audience)
        guard RoomRules.peerRange.contains(maxPeers) else { throw OtterError(.badToken, "token maxPeers out of range") }
    }
}

/// Room capacity and lifetime rules shared by the API and signaling; the
/// Lambda handlers read the same numbers from Templates/limits.json ("room"),
/// and LimitsFileTests holds these to it.
public enum RoomRules {
    public static let peerRange = 2...4
    public static let defaultMaxPeers = 2
    public static let defaultTTL: TimeInterval = 48 * 3600
    public static let maxTTL: TimeInterval = 30 * 24 * 3600
    public static let minTTL: TimeInterval = 60
    /// Longer tokens are refused unread (as the Lambda handlers do): a real one is a few hundred characters.
    public static let maxTokenChars = 4096
}

/// Signs and verifies room tokens: JWT, HS256 only, with the signing secret.
public struct RoomTokens: Sendable {
    private let keys: JWTKeyCollection

    /// The secret's UTF-8 bytes are the HMAC key (as in the Lambda handlers);
    /// shorter than SHA-256's output would weaken HS256, so it is refused.
    public init(signingSecret: String) async throws {
        guard signingSecret.utf8.count >= 32 else {
            throw OtterError(.internal, "the token signing secret must be at least 32 bytes")
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: signingSecret), digestAlgorithm: .sha256)
        self.keys = keys
    }

    public func sign(_ claims: RoomClaims) async throws -> String {
        try await keys.sign(claims)
    }

    /// Verifies a token. The `alg` header must be exactly HS256 (so `none` or a
    /// public-key confusion never reaches the signature check), the signature
    /// must hold, then the claims: issuer, audience, and `exp` against `now`.
    public func verify(_ token: String, now: Date = Date()) async throws -> RoomClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= RoomRules.maxTokenChars, parts.count == 3, let headerData = Base64URL.decode(String(parts[0])),
              let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any]
        else { throw OtterError(.badToken, ErrorWording.tokenNotJWT) }
        guard header["alg"] as? String == "HS256" else {
            throw OtterError(.badToken, ErrorWording.tokenNotHS256)
        }
        let claims: RoomClaims
        do {
            claims = try await keys.verify(token, as: RoomClaims.self)
        } catch let error as OtterError {
            throw error
        } catch {
            throw OtterError(.badToken, ErrorWording.tokenInvalid)
        }
        guard claims.exp.value > now else {
            throw OtterError(.tokenExpired, ErrorWording.tokenExpired)
        }
        return claims
    }
}
