import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
@testable import OtterServer

/// The signaling handlers (control frames and the protocol) on NIO's `EmbeddedChannel`s: one per browser, a real
/// hub between them, frames in and out exactly as the WebSocket codec passes
/// them. The process-level behaviour (upgrade, 401, shutdown) is tested
/// against `otter up` in Tests/server.
struct SignalingConnectionTests {
    let hub = SignalingHub()
    let metrics = ServerMetrics()

    func socket(room: String = "room-1", maxPeers: Int = 2, rate: Double = 200, burst: Double = 2000,
                loop: EmbeddedEventLoop = EmbeddedEventLoop()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000)).wait()  // active, like an upgraded socket
        try SignalingConnection.addHandlers(
            to: channel.pipeline.syncOperations, roomID: room, maxPeers: maxPeers, hub: hub, metrics: metrics,
            settings: .init(pingInterval: .seconds(30), rate: rate, burst: burst), logger: Logger(label: "test"))
        return channel
    }

    func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)))
    }

    /// The next frame the server wrote to this socket, if any.
    func next(_ channel: EmbeddedChannel) throws -> WebSocketFrame? {
        try channel.readOutbound(as: WebSocketFrame.self)
    }

    func json(_ channel: EmbeddedChannel) throws -> [String: Any] {
        guard let frame = try next(channel) else { return [:] }
        #expect(frame.opcode == .text)
        return (try JSONSerialization.jsonObject(with: Data(frame.unmaskedData.readableBytesView))) as? [String: Any] ?? [:]
    }

    func closeCode(_ channel: EmbeddedChannel) throws -> WebSocketErrorCode? {
        guard let frame = try next(channel), frame.opcode == .connectionClose else { return nil }
        var data = frame.unmaskedData
        return data.readWebSocketErrorCode()
    }

    func joined(_ channel: EmbeddedChannel) throws -> String {
        try send(channel, #"{"action":"join"}"#)
        let welcome = try json(channel)
        #expect(welcome["type"] as? String == "welcome")
        return try #require(welcome["peerId"] as? String)
    }

    /// Peers on different event loops (each write flushed at once) and on the
    /// same loop (written during the read burst, flushed at its end).
    @Test(arguments: [false, true])
    func twoPeersMeetAndSignalsArriveInOrderWithTheSendersBytes(sameLoop: Bool) throws {
        let loop = EmbeddedEventLoop()
        let a = try socket(loop: loop), b = try socket(loop: sameLoop ? loop : EmbeddedEventLoop())
        let idA = try joined(a)
        try send(b, #"{"action":"join"}"#)
        let welcomeB = try json(b)
        #expect(welcomeB["peers"] as? [String] == [idA])
        let idB = try #require(welcomeB["peerId"] as? String)
        #expect(try json(a)["peerId"] as? String == idB)  // peer-joined

        for k in 0..<100 {
            try send(a, #"{"action":"signal","to":"\#(idB)","data":{"n":\#(k),"sdp":"v=0\r\n"}}"#)
        }
        for k in 0..<100 {
            let frame = try #require(try next(b))
            #expect(String(buffer: frame.unmaskedData) == #"{"data":{"n":\#(k),"sdp":"v=0\r\n"},"from":"\#(idA)","type":"signal"}"#)
        }
        #expect(try next(a) == nil)  // nothing echoed to the sender
    }

    @Test func aFullRoomIsRefusedAndClosed() throws {
        let a = try socket(), b = try socket(), c = try socket()
        _ = try joined(a)
        _ = try joined(b)
        try send(c, #"{"action":"join"}"#)
        let error = try json(c)
        #expect(error["code"] as? String == "room-full")
        #expect(try closeCode(c) == .normalClosure)
        #expect(hub.peers(in: "room-1").count == 2)
    }

    @Test func badFramesGetErrorsAndTheSocketStaysUsable() throws {
        let a = try socket()
        try send(a, "{not json")
        #expect(try json(a)["code"] as? String == "bad-message")
        try a.writeInbound(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [1, 2, 3])))
        #expect(try json(a)["code"] as? String == "bad-message")
        try send(a, #"{"action":"signal","to":"x","data":{}}"#)
        #expect(try json(a)["code"] as? String == "bad-message")  // not joined yet
        try send(a, "{\"action\":\"ping\",\"pad\":\"" + String(repeating: "x", count: 70_000) + "\"}")
        #expect(try json(a)["code"] as? String == "too-large")
        let id = try joined(a)
        try send(a, #"{"action":"signal","to":"nobody","data":{}}"#)
        #expect(try json(a)["code"] as? String == "unknown-peer")
        try send(a, #"{"action":"signal","to":"\#(id)","data":{}}"#)
        #expect(try json(a)["code"] as? String == "unknown-peer")  // not to itself
        try send(a, #"{"action":"ping"}"#)
        #expect(try json(a)["type"] as? String == "pong")
        #expect(a.isActive)
    }

    @Test func aPeerOfAnotherRoomCannotBeReached() throws {
        let a = try socket(room: "room-1"), b = try socket(room: "room-2")
        _ = try joined(a)
        let idB = try joined(b)
        try send(a, #"{"action":"signal","to":"\#(idB)","data":{}}"#)
        #expect(try json(a)["code"] as? String == "unknown-peer")
        #expect(try next(b) == nil)
    }

    @Test func overTheRateTheClientIsToldAndClosed() throws {
        let a = try socket(rate: 1, burst: 3)
        for _ in 0..<3 {
            try send(a, #"{"action":"ping"}"#)
            #expect(try json(a)["type"] as? String == "pong")
        }
        try send(a, #"{"action":"ping"}"#)
        #expect(try json(a)["code"] as? String == "rate-limited")
        #expect(try closeCode(a) == .normalClosure)
        try send(a, #"{"action":"ping"}"#)
        #expect(try next(a) == nil)  // closing: nothing more is answered
    }

    @Test func closingTellsTheRoomAndAnswersTheCloseHandshake() throws {
        let a = try socket(), b = try socket()
        let idA = try joined(a)
        _ = try joined(b)
        _ = try json(a)  // peer-joined
        var data = ByteBuffer()
        data.write(webSocketErrorCode: .normalClosure)
        try a.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))
        #expect(try closeCode(a) == .normalClosure)
        a.embeddedEventLoop.run()
        #expect(!a.isActive)
        let left = try json(b)
        #expect(left["type"] as? String == "peer-left")
        #expect(left["peerId"] as? String == idA)
        #expect(hub.peers(in: "room-1").count == 1)
    }

    @Test func aBrowserThatHangsUpWithoutACloseFrameLeavesTheRoom() throws {
        let a = try socket(), b = try socket()
        let idA = try joined(a)
        _ = try joined(b)
        a.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        a.embeddedEventLoop.run()
        #expect(!a.isActive)
        #expect(try json(b)["peerId"] as? String == idA)
        #expect(hub.peers(in: "room-1").count == 1)
    }

    @Test func aSocketThatStopsAnsweringPingsIsDropped() throws {
        let a = try socket(), b = try socket()
        _ = try joined(a)
        _ = try joined(b)
        _ = try json(a)  // peer-joined
        b.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(try next(b)?.opcode == .ping)
        try b.writeInbound(WebSocketFrame(fin: true, opcode: .pong, data: ByteBuffer()))
        b.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(try next(b)?.opcode == .ping)
        #expect(b.isActive)  // it answered the first one
        b.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(!b.isActive)  // not the second
        #expect(try json(a)["type"] as? String == "peer-left")
    }

    @Test func shutdownClosesEverySocketWithGoingAwayAndRefusesNewOnes() throws {
        let a = try socket()
        _ = try joined(a)
        hub.closeAll()
        a.embeddedEventLoop.run()
        #expect(try closeCode(a) == .goingAway)
        let late = try socket()
        #expect(try closeCode(late) == .goingAway)
    }

    @Test func aBrowserThatStopsReadingIsCutOffNotBufferedForever() throws {
        let a = try socket(), b = try socket()
        _ = try joined(a)
        let idB = try joined(b)
        _ = try json(a)
        // As a real channel does once its outbound buffer passes the high-water mark.
        b.isWritable = false
        try send(a, #"{"action":"signal","to":"\#(idB)","data":{}}"#)
        b.embeddedEventLoop.run()
        #expect(try closeCode(b) == .policyViolation)
    }
}
