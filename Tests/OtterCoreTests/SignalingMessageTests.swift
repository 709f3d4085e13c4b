import Foundation
import Testing
@testable import OtterCore

struct SignalingMessageTests {
    func parse(_ s: String) throws -> ClientMessage { try ClientMessage.parse(Array(s.utf8)) }

    @Test func parsesTheThreeActions() throws {
        #expect(try parse(#"{"action":"join"}"#) == .join(resume: nil))
        #expect(try parse(#"{"action":"ping"}"#) == .ping)
        let m = try parse(#"{"action":"signal","to":"p2","data":{"type":"offer","sdp":"v=0\r\n","n":1}}"#)
        guard case .signal(let to, let raw) = m else { Issue.record("not a signal"); return }
        #expect(to == "p2")
        // Passed through as the sender's bytes, and still the same value.
        #expect(raw.text == #"{"type":"offer","sdp":"v=0\r\n","n":1}"#)
        #expect(raw.value?["type"] == "offer")
        #expect(raw.value?["sdp"] == "v=0\r\n")
        #expect(raw.value?["n"] == .number(1))
    }

    /// A join's `resume` claim (DESIGN.md "Seat takeover"); one that cannot
    /// match anything is a plain join, never an error.
    @Test func aJoinCarriesItsResumeClaimAndIgnoresAMalformedOne() throws {
        #expect(try parse(#"{"action":"join","resume":{"peerId":"p\u00e9","key":"k1"}}"#)
                == .join(resume: ResumeClaim(peerID: "pé", key: "k1")))
        let long = String(repeating: "k", count: ResumeClaim.maxLength + 1)
        for resume in [#""p:k""#, "null", "[]", "{}", #"{"peerId":"p"}"#, #"{"key":"k"}"#, #"{"peerId":1,"key":"k"}"#,
                       #"{"peerId":"","key":"k"}"#, #"{"peerId":"p","key":"\#(long)"}"#] {
            #expect(try parse(#"{"action":"join","resume":\#(resume)}"#) == .join(resume: nil), "resume \(resume)")
        }
        // Still a whole JSON document: a broken claim breaks the frame.
        let e = #expect(throws: OtterError.self) { try parse(#"{"action":"join","resume":{"peerId":}}"#) }
        #expect(e?.code == .badMessage)
    }

    @Test func badFramesGiveBadMessage() {
        for frame in ["", "null", "[]", "{", #"{"action":5}"#, #"{"action":"dance"}"#, #"{"action":"signal","data":{}}"#,
                      #"{"action":"signal","to":"p","data":"x"}"#, "\u{FF}\u{FE}"] {
            let e = #expect(throws: OtterError.self) { try parse(frame) }
            #expect(e?.code == .badMessage, "frame \(frame)")
        }
    }

    @Test func theScannerAgreesWithJSONDecoderOnValidityAndEscapes() throws {
        let valid = [#"{"action":"signal","to":"p\u00e9\ud83d\ude00","data":{"a":[1,-2.5e3,true,false,null,{"b":"\"\\\/\b\f\n\r\t"}]}}"#,
                     " \t\n{\"action\" : \"ping\" } \r\n", #"{"action":"join","x":{},"y":[]}"#]
        for frame in valid {
            #expect(throws: Never.self) { try parse(frame) }
            #expect((try? JSONDecoder().decode(JSONValue.self, from: Data(frame.utf8))) != nil)
        }
        guard case .signal(let to, let raw) = try parse(valid[0]) else { Issue.record("not a signal"); return }
        #expect(to == "pé😀")
        #expect(raw.value == (try JSONDecoder().decode(JSONValue.self, from: Data(valid[0].utf8)))["data"])
        let invalid = [#"{"action":"ping",}"#, #"{"action":"ping"} x"#, #"{"action":"ping""#, #"{"action":'ping'}"#,
                       #"{"action":"ping","n":01}"#, #"{"action":"ping","n":1.}"#, #"{"action":"ping","n":-}"#,
                       #"{"action":"ping","s":"\x"}"#, "{\"action\":\"ping\",\"s\":\"a\u{01}b\"}", #"{"action":"ping","t":tru}"#,
                       #"{"action":"ping","u":"\u12"}"#, String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
                       #"{"action":"signal","to":"p","data":{"a":"#, "{" + String(repeating: #""a":{"#, count: 70) + "}"]
        for frame in invalid {
            let e = #expect(throws: OtterError.self) { try parse(frame) }
            #expect(e?.code == .badMessage, "frame \(frame)")
        }
    }

    @Test func oversizedFramesAreRefused() {
        let big = #"{"action":"signal","to":"p","data":{"x":""# + String(repeating: "a", count: 70_000) + #""}}"#
        let e = #expect(throws: OtterError.self) { try parse(big) }
        #expect(e?.code == .tooLarge)
    }

    /// API Gateway closes a WebSocket on a frame over "32 KB" (1009); the limit is
    /// its stricter reading, 32,000 bytes, the same as the Lambda handlers'.
    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
    @Test func theFrameLimitIsAPIGateways32KB() throws {
        #expect(ClientMessage.maxFrameBytes == 32_000)
        func frame(_ size: Int) -> String {
            let head = #"{"action":"signal","to":"p","data":{"x":""#, tail = #""}}"#
            return head + String(repeating: "a", count: size - head.utf8.count - tail.utf8.count) + tail
        }
        #expect(frame(32_000).utf8.count == 32_000)
        guard case .signal(let to, _) = try parse(frame(32_000)) else { Issue.record("not a signal"); return }
        #expect(to == "p")
        let e = #expect(throws: OtterError.self) { try parse(frame(32_001)) }
        #expect(e?.code == .tooLarge)
    }

    @Test func serverMessagesEncodeAsDesignSays() throws {
        #expect(ServerMessage.pong.text == #"{"type":"pong"}"#)
        #expect(ServerMessage.peerJoined(peerID: "b").text == #"{"peerId":"b","type":"peer-joined"}"#)
        #expect(ServerMessage.error(code: .roomFull, message: "full").text == #"{"code":"room-full","message":"full","type":"error"}"#)
        let w = ServerMessage.welcome(peerID: "a", peers: ["b"], iceServers: nil, resume: nil).text
        #expect(w == #"{"peerId":"a","peers":["b"],"type":"welcome"}"#)
        let r = ServerMessage.welcome(peerID: "a", peers: [], iceServers: nil, resume: "k-_1").text
        #expect(r == #"{"peerId":"a","peers":[],"resume":"k-_1","type":"welcome"}"#)
        // Signal data passes through unchanged, numbers included.
        let s = ServerMessage.signal(from: "a", data: RawJSON(["candidate": "c", "sdpMLineIndex": .number(0)])).text
        #expect(s == #"{"data":{"candidate":"c","sdpMLineIndex":0},"from":"a","type":"signal"}"#)
    }
}
