import Foundation
import OtterCore
import Testing
@testable import OtterServer

/// Templates/limits.json is the one copy of the limits and error sentences the
/// Lambda handlers read; `otter up`'s constants are Swift, so this holds each
/// of them to that file and both implementations say and allow the same.
struct LimitsFileTests {
    static var limits: [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Templates/limits.json")
        let data = try! Data(contentsOf: url)
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func int(_ path: String...) -> Int? {
        var value: Any? = limits
        for key in path { value = (value as? [String: Any])?[key] }
        return value as? Int
    }

    @Test func roomRulesAreTheLimits() {
        #expect(RoomRules.peerRange.lowerBound == Self.int("room", "minPeers"))
        #expect(RoomRules.peerRange.upperBound == Self.int("room", "maxPeers"))
        #expect(RoomRules.defaultMaxPeers == Self.int("room", "defaultMaxPeers"))
        #expect(Int(RoomRules.minTTL) == Self.int("room", "minTTLSeconds"))
        #expect(Int(RoomRules.maxTTL) == Self.int("room", "maxTTLSeconds"))
        #expect(Int(RoomRules.defaultTTL) == Self.int("room", "defaultTTLSeconds"))
        let token = Self.limits["token"] as? [String: Any]
        #expect(RoomClaims.issuer == token?["issuer"] as? String)
        #expect(RoomClaims.audience == token?["audience"] as? String)
    }

    @Test func sizesAndLifetimesAreTheLimits() {
        #expect(ClientMessage.maxFrameBytes == Self.int("maxFrameBytes"))
        #expect(JSONBody.maxBytes == Self.int("maxBodyBytes"))
        #expect(Int(TurnCredentials.defaultTTL) == Self.int("iceTTLSeconds"))
        #expect(Int(ServerConfiguration().iceTTL) == Self.int("iceTTLSeconds"))
        #expect(RoomRules.maxTokenChars == Self.int("token", "maxChars"))
    }

    /// `otter up`'s default signaling rate (per socket) is the file's.
    @Test func signalRateIsTheLimits() {
        #expect(ServerConfiguration().signalRate == Double(Self.int("signalRate", "messagesPerSecond") ?? -1))
        #expect(ServerConfiguration().signalBurst == Double(Self.int("signalRate", "burst") ?? -1))
    }

    /// A token longer than the cap is refused unread with the "not a JWT" sentence, as the Lambda handlers do.
    @Test func overlongTokenIsRefusedAsTheHandlersDo() async throws {
        let tokens = try await RoomTokens(signingSecret: String(repeating: "s", count: 32))
        let now = Date()
        let claims = RoomClaims(roomID: "r1", maxPeers: 2, issuedAt: now, expiresAt: now.addingTimeInterval(600))
        let good = try await tokens.sign(claims)
        _ = try await tokens.verify(good)
        let cap = try #require(Self.int("token", "maxChars"))
        let long = good + String(repeating: "A", count: cap + 1 - good.utf8.count)
        await #expect(throws: OtterError.self) { try await tokens.verify(long) }
        do { _ = try await tokens.verify(long) } catch let error as OtterError {
            #expect(error.message == ErrorWording.tokenNotJWT)
        }
    }

    /// Each sentence `otter up` sends, filled with sample values, against the
    /// file's sentence filled with the same; every sentence of the file is here.
    @Test func errorSentencesAreTheLimitsFile() throws {
        let messages = try #require(Self.limits["messages"] as? [String: String])
        let sentences: [String: (swift: String, values: [String: String])] = [
            "frame-too-large": (ErrorWording.frameTooLarge(123), ["maxFrameBytes": "123"]),
            "frame-not-object": (ErrorWording.frameNotObject, [:]),
            "frame-without-action": (ErrorWording.frameWithoutAction, [:]),
            "unknown-action": (ErrorWording.unknownAction("fly"), ["action": "fly"]),
            "signal-without-to": (ErrorWording.signalWithoutTo, [:]),
            "signal-without-data": (ErrorWording.signalWithoutData, [:]),
            "already-joined": (ErrorWording.alreadyJoined, [:]),
            "signal-before-join": (ErrorWording.signalBeforeJoin, [:]),
            "unknown-peer": (ErrorWording.unknownPeer("p-9"), ["peerId": "p-9"]),
            "room-full": (ErrorWording.roomFull(3), ["maxPeers": "3"]),
            "rate-limited": (ErrorWording.rateLimited, [:]),
            "token-expired": (ErrorWording.tokenExpired, [:]),
            "token-not-jwt": (ErrorWording.tokenNotJWT, [:]),
            "token-not-hs256": (ErrorWording.tokenNotHS256, [:]),
            "token-invalid": (ErrorWording.tokenInvalid, [:]),
            "token-other-room": (ErrorWording.tokenOtherRoom, [:]),
            "room-not-found": (ErrorWording.roomNotFound, [:]),
            "api-key-missing": (ErrorWording.apiKeyMissing, [:]),
            "api-key-invalid": (ErrorWording.apiKeyInvalid, [:]),
            "bearer-missing": (ErrorWording.bearerMissing, [:]),
            "body-too-large": (ErrorWording.bodyTooLarge(77), ["maxBodyBytes": "77"]),
            "body-not-json": (ErrorWording.bodyNotJSON, [:]),
            "body-not-object": (ErrorWording.bodyNotObject, [:]),
            "bad-max-peers": (ErrorWording.badMaxPeers(5...8), ["minPeers": "5", "maxPeers": "8"]),
            "bad-ttl": (ErrorWording.badTTL(10...20), ["minTTLSeconds": "10", "maxTTLSeconds": "20"]),
        ]
        #expect(Set(sentences.keys) == Set(messages.keys))
        for (key, sentence) in sentences {
            var expected = try #require(messages[key])
            for (name, value) in sentence.values { expected = expected.replacingOccurrences(of: "{\(name)}", with: value) }
            #expect(!expected.contains("{"), "\(key) has a value this test does not fill")
            #expect(sentence.swift == expected, "\(key)")
        }
    }
}
