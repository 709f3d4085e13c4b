import Foundation
import Testing
@testable import OtterCore

struct RoomTokenTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let secret = "0123456789abcdef0123456789abcdef-signing"

    func claims(expiresIn: TimeInterval = 3600, maxPeers: Int = 2) -> RoomClaims {
        RoomClaims(roomID: "room-1", maxPeers: maxPeers, issuedAt: now, expiresAt: now.addingTimeInterval(expiresIn))
    }

    @Test func roundTrip() async throws {
        let tokens = try await RoomTokens(signingSecret: Self.secret)
        let token = try await tokens.sign(claims(maxPeers: 3))
        let verified = try await tokens.verify(token, now: now)
        #expect(verified.roomID == "room-1")
        #expect(verified.maxPeers == 3)
        #expect(verified.iss.value == "otter")
        #expect(verified.aud.value == ["otter-room"])
    }

    @Test func expiredTokenIsRefusedAsExpired() async throws {
        let tokens = try await RoomTokens(signingSecret: Self.secret)
        let token = try await tokens.sign(claims(expiresIn: 60))
        let e = await #expect(throws: OtterError.self) { try await tokens.verify(token, now: now.addingTimeInterval(61)) }
        #expect(e?.code == .tokenExpired)
    }

    @Test func otherSecretIsRefused() async throws {
        let token = try await RoomTokens(signingSecret: Self.secret).sign(claims())
        let other = try await RoomTokens(signingSecret: Self.secret + "x")
        let e = await #expect(throws: OtterError.self) { try await other.verify(token, now: now) }
        #expect(e?.code == .badToken)
    }

    @Test func algNoneAndOtherAlgorithmsAreRefused() async throws {
        let tokens = try await RoomTokens(signingSecret: Self.secret)
        let good = try await tokens.sign(claims())
        let parts = good.split(separator: ".").map(String.init)
        for alg in ["none", "HS512", "RS256", "hs256"] {
            let header = Base64URL.encode(Array(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8))
            for sig in ["", parts[2]] {
                let forged = [header, parts[1], sig].joined(separator: ".")
                let e = await #expect(throws: OtterError.self) { try await tokens.verify(forged, now: now) }
                #expect(e?.code == .badToken)
            }
        }
    }

    @Test func tamperedPayloadIsRefused() async throws {
        let tokens = try await RoomTokens(signingSecret: Self.secret)
        let parts = try await tokens.sign(claims()).split(separator: ".").map(String.init)
        var payload = try JSONSerialization.jsonObject(with: Base64URL.decode(parts[1])!) as! [String: Any]
        payload["maxPeers"] = 4
        let forged = [parts[0], Base64URL.encode(try JSONSerialization.data(withJSONObject: payload)), parts[2]].joined(separator: ".")
        await #expect(throws: OtterError.self) { try await tokens.verify(forged, now: now) }
    }

    @Test func shortSecretsAreRefused() async {
        await #expect(throws: OtterError.self) { try await RoomTokens(signingSecret: "short") }
    }

    @Test func garbageIsRefused() async throws {
        let tokens = try await RoomTokens(signingSecret: Self.secret)
        for junk in ["", "a.b", "a.b.c", "....", String(repeating: "x", count: 5000), "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"] {
            let e = await #expect(throws: OtterError.self) { try await tokens.verify(junk, now: now) }
            #expect(e?.code == .badToken)
        }
    }

    @Test func wrongAudienceIsRefused() async throws {
        let tokens = try await RoomTokens(signingSecret: Self.secret)
        var c = claims()
        c.aud = .init(value: "someone-else")
        let token = try await tokens.sign(c)
        await #expect(throws: (any Error).self) { try await tokens.verify(token, now: now) }
    }
}
