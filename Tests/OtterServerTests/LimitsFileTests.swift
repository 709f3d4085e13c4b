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
