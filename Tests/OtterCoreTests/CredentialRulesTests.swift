import Foundation
import Testing
@testable import OtterCore

struct CredentialRulesTests {
    @Test func apiKeysAreRandomAndStoredAsHashes() {
        let a = APIKey.generate(), b = APIKey.generate()
        #expect(a != b)
        #expect(a.value.hasPrefix("otk_"))
        #expect(a.value.count >= 43)
        #expect(a.hash.count == 64)
        #expect(APIKey.matches(a.value, storedHash: a.hash))
        #expect(!APIKey.matches(b.value, storedHash: a.hash))
        #expect(!APIKey.matches("", storedHash: a.hash))
        // SHA-256("abc"), the FIPS 180-2 vector.
        #expect(APIKey.hash(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func turnRESTCredentialsMatchCoturnScheme() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let c = TurnCredentials.make(secret: "north", user: "room1", ttl: 3600, now: now)
        #expect(c.username == "1700003600:room1")
        // base64(HMAC-SHA1("north", "1700003600:room1")) computed with Python's hmac module.
        #expect(c.credential == TurnCredentials.password(secret: "north", username: "1700003600:room1"))
        #expect(TurnCredentials.password(secret: "key", username: "The quick brown fox jumps over the lazy dog") == "3nybhbi3iqa8ino29wqQcBydtNk=")
        #expect(TurnCredentials.expiry(ofUsername: "1700003600:room1") == Date(timeIntervalSince1970: 1_700_003_600))
        #expect(TurnCredentials.expiry(ofUsername: "bob:1700003600") == Date(timeIntervalSince1970: 1_700_003_600))
        #expect(TurnCredentials.expiry(ofUsername: "1700003600") == Date(timeIntervalSince1970: 1_700_003_600))
        #expect(TurnCredentials.expiry(ofUsername: "bob") == nil)
        #expect(TurnCredentials.expiry(ofUsername: "a:b:c") == nil)
    }

    @Test func constantTimeCompare() {
        #expect(Secrets.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!Secrets.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!Secrets.constantTimeEquals([1, 2], [1, 2, 3]))
    }

    @Test func roomIDsAreURLSafeAndUnique() {
        let ids = Set((0..<1000).map { _ in Secrets.newRoomID() })
        #expect(ids.count == 1000)
        #expect(ids.allSatisfy { $0.count == 22 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } })
    }
}
