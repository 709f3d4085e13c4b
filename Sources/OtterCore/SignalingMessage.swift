import Foundation

/// Frames a client sends on the signaling socket (DESIGN.md "Signaling protocol").
public enum ClientMessage: Sendable, Equatable {
    case join
    case signal(to: String, data: JSONValue)
    case ping

    /// Largest frame the server accepts.
    public static let maxFrameBytes = 64 * 1024

    /// Parses one text frame. Never throws anything but an `OtterError` the
    /// server can send back as an `error` frame.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> ClientMessage {
        guard bytes.count <= maxFrameBytes else {
            throw OtterError(.tooLarge, "frames are limited to \(maxFrameBytes) bytes")
        }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)),
              case .object(let object) = value
        else { throw OtterError(.badMessage, "a frame must be a JSON object") }
        guard case .string(let action)? = object["action"] else {
            throw OtterError(.badMessage, "a frame needs a string \"action\"")
        }
        switch action {
        case "join": return .join
        case "ping": return .ping
        case "signal":
            guard case .string(let to)? = object["to"], !to.isEmpty else {
                throw OtterError(.badMessage, "signal needs a string \"to\"")
            }
            guard let data = object["data"], case .object = data else {
                throw OtterError(.badMessage, "signal needs an object \"data\"")
            }
            return .signal(to: to, data: data)
        default:
            throw OtterError(.badMessage, "unknown action \"\(action.prefix(40))\"")
        }
    }
}

/// Frames the server sends.
public enum ServerMessage: Sendable, Equatable {
    case welcome(peerID: String, peers: [String], iceServers: JSONValue?)
    case peerJoined(peerID: String)
    case peerLeft(peerID: String)
    case signal(from: String, data: JSONValue)
    case pong
    case error(code: OtterError.Code, message: String)

    public var json: JSONValue {
        switch self {
        case .welcome(let id, let peers, let ice):
            var o: [String: JSONValue] = ["type": "welcome", "peerId": .string(id), "peers": .array(peers.map(JSONValue.string))]
            if let ice { o["iceServers"] = ice }
            return .object(o)
        case .peerJoined(let id): return ["type": "peer-joined", "peerId": .string(id)]
        case .peerLeft(let id): return ["type": "peer-left", "peerId": .string(id)]
        case .signal(let from, let data): return ["type": "signal", "from": .string(from), "data": data]
        case .pong: return ["type": "pong"]
        case .error(let code, let message): return ["type": "error", "code": .string(code.rawValue), "message": .string(message)]
        }
    }

    public var text: String { json.compactText }
}
