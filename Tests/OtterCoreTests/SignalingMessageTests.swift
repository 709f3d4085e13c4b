import Foundation
import Testing
@testable import OtterCore

struct SignalingMessageTests {
    func parse(_ s: String) throws -> ClientMessage { try ClientMessage.parse(Array(s.utf8)) }

    @Test func parsesTheThreeActions() throws {
        #expect(try parse(#"{"action":"join"}"#) == .join)
        #expect(try parse(#"{"action":"ping"}"#) == .ping)
        let m = try parse(#"{"action":"signal","to":"p2","data":{"type":"offer","sdp":"v=0\r\n","n":1}}"#)
        guard case .signal(let to, let data) = m else { Issue.record("not a signal"); return }
        #expect(to == "p2")
        #expect(data["type"] == "offer")
        #expect(data["n"] == .number(1))
    }

    @Test func badFramesGiveBadMessage() {
        for frame in ["", "null", "[]", "{", #"{"action":5}"#, #"{"action":"dance"}"#, #"{"action":"signal","data":{}}"#,
                      #"{"action":"signal","to":"p","data":"x"}"#, "\u{FF}\u{FE}"] {
            let e = #expect(throws: OtterError.self) { try parse(frame) }
            #expect(e?.code == .badMessage, "frame \(frame)")
        }
    }

    @Test func oversizedFramesAreRefused() {
        let big = #"{"action":"signal","to":"p","data":{"x":""# + String(repeating: "a", count: 70_000) + #""}}"#
        let e = #expect(throws: OtterError.self) { try parse(big) }
        #expect(e?.code == .tooLarge)
    }

    @Test func serverMessagesEncodeAsDesignSays() throws {
        #expect(ServerMessage.pong.text == #"{"type":"pong"}"#)
        #expect(ServerMessage.peerJoined(peerID: "b").text == #"{"peerId":"b","type":"peer-joined"}"#)
        #expect(ServerMessage.error(code: .roomFull, message: "full").text == #"{"code":"room-full","message":"full","type":"error"}"#)
        let w = ServerMessage.welcome(peerID: "a", peers: ["b"], iceServers: nil).text
        #expect(w == #"{"peerId":"a","peers":["b"],"type":"welcome"}"#)
        // Signal data passes through unchanged, numbers included.
        let s = ServerMessage.signal(from: "a", data: ["candidate": "c", "sdpMLineIndex": .number(0)]).text
        #expect(s == #"{"data":{"candidate":"c","sdpMLineIndex":0},"from":"a","type":"signal"}"#)
    }
}
