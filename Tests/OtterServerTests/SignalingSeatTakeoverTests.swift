import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
@testable import OtterServer

/// DESIGN.md "Seat takeover": a browser whose socket died silently (its
/// network changed) rejoins on a new socket with the `resume` key of its old
/// welcome and gets its seat back at once, even in a full room; any claim that
/// does not match is a plain join.
extension SignalingConnectionTests {
    struct Joined {
        let channel: EmbeddedChannel
        let peerID: String
        let resume: String
    }

    func join(_ channel: EmbeddedChannel, resume: (peerID: String, key: String)? = nil) throws -> [String: Any] {
        if let resume {
            try send(channel, #"{"action":"join","resume":{"peerId":"\#(resume.peerID)","key":"\#(resume.key)"}}"#)
        } else {
            try send(channel, #"{"action":"join"}"#)
        }
        return try json(channel)
    }

    /// `n` sockets seated in a room of `n`, their frames so far read.
    func fullRoom(_ n: Int, room: String = "room-1") throws -> [Joined] {
        var seated: [Joined] = []
        for _ in 0..<n {
            let channel = try socket(room: room, maxPeers: n)
            let welcome = try join(channel)
            #expect(welcome["type"] as? String == "welcome")
            let resume = try #require(welcome["resume"] as? String)
            seated.append(Joined(channel: channel, peerID: try #require(welcome["peerId"] as? String), resume: resume))
            for earlier in seated.dropLast() { #expect(try json(earlier.channel)["type"] as? String == "peer-joined") }
        }
        return seated
    }

    /// `otter_signaling_seat_takeovers_total` as /metrics shows it.
    func takeovers() throws -> Int {
        let text = String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("otter_signaling_seat_takeovers_total ") })
        return try #require(Int(line.split(separator: " ")[1]))
    }

    @Test func aRejoinWithItsResumeKeyTakesOverItsSilentSeatInAFullRoom() throws {
        let seated = try fullRoom(4)
        let stale = seated[1]  // its socket went silent: the server cannot tell yet
        let keys = Set(seated.map(\.resume))
        #expect(keys.count == 4 && keys.allSatisfy { $0.count == 22 })  // 128 bits, base64url, one per socket

        #expect(try takeovers() == 0)
        let fresh = try socket(maxPeers: 4)
        let welcome = try join(fresh, resume: (stale.peerID, stale.resume))
        #expect(welcome["type"] as? String == "welcome")
        #expect(try takeovers() == 1)  // what an operator (and the lab's e2e test) reads
        let newID = try #require(welcome["peerId"] as? String)
        #expect(newID != stale.peerID)
        #expect(welcome["peers"] as? [String] == seated.filter { $0.peerID != stale.peerID }.map(\.peerID).sorted())
        let newKey = try #require(welcome["resume"] as? String)
        #expect(!keys.contains(newKey))

        // The others see the old seat leave, then the new one arrive, as on a normal leave
        // and join; the key travels to nobody but its own socket.
        for other in seated where other.peerID != stale.peerID {
            let left = try json(other.channel), arrived = try json(other.channel)
            #expect(left.count == 2 && left["type"] as? String == "peer-left" && left["peerId"] as? String == stale.peerID)
            #expect(arrived.count == 2 && arrived["type"] as? String == "peer-joined" && arrived["peerId"] as? String == newID)
            #expect(try next(other.channel) == nil)
        }
        #expect(hub.peers(in: "room-1") == (seated.map(\.peerID).filter { $0 != stale.peerID } + [newID]).sorted())

        // The old socket is closed, and relays nothing meanwhile.
        #expect(try closeCode(stale.channel) == .normalClosure)
        try send(stale.channel, #"{"action":"signal","to":"\#(seated[0].peerID)","data":{}}"#)
        #expect(try next(stale.channel) == nil)
        #expect(try next(seated[0].channel) == nil)
        // When its TCP connection finally ends, nobody hears of it again.
        stale.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        stale.channel.embeddedEventLoop.run()
        #expect(!stale.channel.isActive)
        for other in seated where other.peerID != stale.peerID { #expect(try next(other.channel) == nil) }
        #expect(hub.peers(in: "room-1").contains(newID) && hub.peers(in: "room-1").count == 4)

        // The new seat signals both ways under its new id.
        try send(fresh, #"{"action":"signal","to":"\#(seated[0].peerID)","data":{"n":1}}"#)
        #expect(try json(seated[0].channel)["from"] as? String == newID)
        try send(seated[0].channel, #"{"action":"signal","to":"\#(newID)","data":{"n":2}}"#)
        #expect(try json(fresh)["from"] as? String == seated[0].peerID)
    }

    @Test func aClaimThatDoesNotMatchIsAPlainJoinAndTheFullRoomRefusesIt() throws {
        let seated = try fullRoom(2)
        let elsewhere = try fullRoom(2, room: "room-2")
        let claims: [(String, String)] = [
            (seated[1].peerID, String(seated[1].resume.reversed())),  // wrong key
            (seated[1].peerID, seated[0].resume),  // another seat's key
            ("nobody", seated[1].resume),  // unknown id
            (elsewhere[0].peerID, elsewhere[0].resume),  // a valid seat of another room
        ]
        for claim in claims {
            let c = try socket(maxPeers: 2)
            let error = try join(c, resume: claim)
            #expect(error["code"] as? String == "room-full")
            #expect(try closeCode(c) == .normalClosure)
        }
        #expect(hub.peers(in: "room-1") == seated.map(\.peerID).sorted())
        #expect(hub.peers(in: "room-2") == elsewhere.map(\.peerID).sorted())
        #expect(try takeovers() == 0)
        for s in seated + elsewhere {
            #expect(try next(s.channel) == nil)  // no frame, no close
            #expect(s.channel.isActive)
        }
    }

    @Test func aResumeKeyTakesItsSeatOverOnceAndAJoinedSocketCannotClaim() throws {
        let seated = try fullRoom(2)
        let fresh = try socket()
        let welcome = try join(fresh, resume: (seated[1].peerID, seated[1].resume))
        #expect(welcome["type"] as? String == "welcome")
        #expect(try json(seated[0].channel)["type"] as? String == "peer-left")
        #expect(try json(seated[0].channel)["type"] as? String == "peer-joined")
        // The old key is spent: its seat is gone.
        let again = try socket()
        #expect(try join(again, resume: (seated[1].peerID, seated[1].resume))["code"] as? String == "room-full")
        #expect(try takeovers() == 1)
        // A socket that already holds a seat cannot join again, resume or not.
        let newID = try #require(welcome["peerId"] as? String), newKey = try #require(welcome["resume"] as? String)
        try send(seated[0].channel, #"{"action":"join","resume":{"peerId":"\#(newID)","key":"\#(newKey)"}}"#)
        #expect(try json(seated[0].channel)["code"] as? String == "bad-message")
        #expect(hub.peers(in: "room-1").count == 2)
    }
}
