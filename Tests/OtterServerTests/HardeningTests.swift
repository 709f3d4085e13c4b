import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
@testable import OtterServer

/// The pieces of `otter up`'s hardening that need no process: the 405 table
/// against the router, the duplicate-key scan, and the WebSocket rules on NIO's
/// `EmbeddedChannel`. Tests/server/test_hardening.py probes a live `otter up`.
struct HardeningTests {
    /// The 405 answer's `Allow` comes from openapi.json: for every path the
    /// router serves it is exactly the router's methods for that path, so the
    /// document and the router cannot drift apart without this failing.
    @Test func methodNotAllowedAllowsExactlyTheRoutersMethods() async throws {
        let store = try StateStore()
        let (secrets, _) = try store.bootstrap()
        let state = try await ServerState(config: ServerConfiguration(), store: store, secrets: secrets)
        let served = buildRouter(state).routes.filter { $0.method != .options }
        #expect(!served.isEmpty)
        let byPath = Dictionary(grouping: served, by: { $0.path.description })
        for (path, routes) in byPath {
            let allowed = try #require(MethodNotAllowedMiddleware<OtterRequestContext>.allowed(path: path),
                                       "\(path) is not in openapi.json")
            #expect(allowed == routes.map(\.method.rawValue).sorted().joined(separator: ", "), "\(path)")
        }
        #expect(OpenAPIDocument.methodsByPath.count == byPath.count)
        #expect(MethodNotAllowedMiddleware<OtterRequestContext>.allowed(path: "/rooms/abc/ice-servers") == "GET")
        #expect(MethodNotAllowedMiddleware<OtterRequestContext>.allowed(path: "/rooms/abc/ice-servers/x") == nil)
    }

    @Test(arguments: [
        (#"{"maxPeers":2,"maxPeers":9}"#, "maxPeers"),
        (#"{"a":1,"\u0061":2}"#, "a"),
        (#"{"o":{"k":1,"k":2}}"#, "k"),
        (#"{"l":[{"k":1},{"k":2}],"k":3}"#, nil),
        (#"{"s":"a,\"k\":1","k":2}"#, nil),
        (#"{"a":{"x":1},"b":{"x":2}}"#, nil),
        (#"[{"k":1,"k":1}]"#, "k"),
    ] as [(String, String?)])
    func duplicateKeysAreFound(json: String, duplicate: String?) {
        #expect(JSONDuplicateKeys.first(in: Array(json.utf8)) == duplicate)
    }

    @Test func closeCodesFollowRFC6455() {
        for ok: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1011, 3000, 4999] {
            #expect(WebSocketControlHandler.isValidCloseCode(ok), "\(ok)")
        }
        for bad: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            #expect(!WebSocketControlHandler.isValidCloseCode(bad), "\(bad)")
        }
    }

    func socket(hub: SignalingHub, joinTimeout: TimeAmount = .seconds(10), loop: EmbeddedEventLoop = EmbeddedEventLoop()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000)).wait()
        try channel.pipeline.syncOperations.addHandler(WebSocketFrameValidator())
        try SignalingConnection.addHandlers(
            to: channel.pipeline.syncOperations, roomID: "room-1", maxPeers: 2, hub: hub, metrics: ServerMetrics(),
            settings: .init(pingInterval: .seconds(30), rate: 200, burst: 2000, joinTimeout: joinTimeout), logger: Logger(label: "test"))
        return channel
    }

    func closeCode(_ channel: EmbeddedChannel) throws -> UInt16? {
        while let frame = try channel.readOutbound(as: WebSocketFrame.self) {
            guard frame.opcode == .connectionClose else { continue }
            var data = frame.unmaskedData
            return data.readInteger(as: UInt16.self)
        }
        return nil
    }

    static let mask = WebSocketMaskingKey([1, 2, 3, 4])

    @Test(arguments: [
        ("unmasked", WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: #"{"action":"ping"}"#)), UInt16(1002)),
        ("rsv1", WebSocketFrame(fin: true, rsv1: true, opcode: .text, maskKey: mask, data: ByteBuffer(string: #"{"action":"ping"}"#)), 1002),
        ("opcode 3", WebSocketFrame(fin: true, opcode: WebSocketOpcode(encodedWebSocketOpcode: 3)!, maskKey: mask, data: ByteBuffer()), 1002),
        ("bad utf-8", WebSocketFrame(fin: true, opcode: .text, maskKey: mask, data: ByteBuffer(bytes: [0x7B, 0xFF, 0x7D])), 1007),
        ("close 999", WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: mask, data: ByteBuffer(bytes: [0x03, 0xE7])), 1002),
        ("close 4000", WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: mask, data: ByteBuffer(bytes: [0x0F, 0xA0])), 4000),
    ])
    func framesAreCheckedAndFailTheConnection(name: String, frame: WebSocketFrame, expected: UInt16) throws {
        let channel = try socket(hub: SignalingHub())
        var frame = frame
        if let key = frame.maskKey {  // the frame as it arrives: masked on the wire
            frame.data.webSocketMask(key)
        }
        try channel.writeInbound(frame)
        #expect(try closeCode(channel) == expected, "\(name)")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive, "\(name): the connection must be closed at once")
    }

    @Test func aSocketThatDoesNotJoinIsClosedAndUnjoinedSocketsAreBounded() throws {
        let loop = EmbeddedEventLoop()
        let hub = SignalingHub(maxPendingPerRoom: 2, maxPendingPerAddress: 5)
        let a = try socket(hub: hub, joinTimeout: .seconds(10), loop: loop)
        _ = try socket(hub: hub, loop: loop)
        let refused = try socket(hub: hub, loop: loop)
        #expect(try closeCode(refused) == 1008)
        loop.advanceTime(by: .seconds(11))
        #expect(try closeCode(a) == 1008)
    }
}
