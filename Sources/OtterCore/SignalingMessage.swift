import Foundation

/// Frames a client sends on the signaling socket (DESIGN.md "Signaling protocol").
public enum ClientMessage: Sendable, Equatable {
    /// `resume`: the seat this client held on an earlier socket, to take over
    /// (DESIGN.md "Seat takeover"); nil for a plain join.
    case join(resume: ResumeClaim?)
    case signal(to: String, data: RawJSON)
    case ping

    /// Largest frame the server accepts: 32,000 bytes, the stricter reading of
    /// API Gateway's "32 KB" WebSocket frame quota (a larger frame closes the
    /// socket with 1009 in the cloud), so both implementations refuse the same
    /// frames with `too-large`.
    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
    public static let maxFrameBytes = 32_000

    /// Parses one text frame. Never throws anything but an `OtterError` the
    /// server can send back as an `error` frame. `data` is validated but not
    /// decoded: it is forwarded as the sender's own bytes.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> ClientMessage {
        guard bytes.count <= maxFrameBytes else {
            throw OtterError(.tooLarge, ErrorWording.frameTooLarge(maxFrameBytes))
        }
        let frame = Array(bytes)
        guard let members = try? JSONScanner.objectMembers(frame) else {
            throw OtterError(.badMessage, ErrorWording.frameNotObject)
        }
        // The last duplicate wins, as in JSONDecoder's dictionaries.
        func member(_ key: String) -> Range<Int>? { members.last(where: { $0.key == key })?.value }
        func string(_ key: String) -> String? {
            guard let r = member(key), frame[r.lowerBound] == UInt8(ascii: "\"") else { return nil }
            return JSONScanner.string(frame, r)
        }
        guard let action = string("action") else {
            throw OtterError(.badMessage, ErrorWording.frameWithoutAction)
        }
        switch action {
        case "join": return .join(resume: resumeClaim(member("resume"), in: frame))
        case "ping": return .ping
        case "signal":
            guard let to = string("to"), !to.isEmpty else {
                throw OtterError(.badMessage, ErrorWording.signalWithoutTo)
            }
            guard let data = member("data"), frame[data.lowerBound] == UInt8(ascii: "{") else {
                throw OtterError(.badMessage, ErrorWording.signalWithoutData)
            }
            return .signal(to: to, data: RawJSON(validated: String(decoding: frame[data], as: UTF8.self)))
        default:
            throw OtterError(.badMessage, ErrorWording.unknownAction(action.prefix(40)))
        }
    }

    /// `{"peerId":…,"key":…}` as a claim, or nil for anything else: a claim
    /// that cannot match (malformed, too long) makes a plain join, like a
    /// wrong key, so a rejoin is never refused for its optional hint.
    private static func resumeClaim(_ range: Range<Int>?, in frame: [UInt8]) -> ResumeClaim? {
        guard let range, frame[range.lowerBound] == UInt8(ascii: "{") else { return nil }
        let object = Array(frame[range])
        guard let members = try? JSONScanner.objectMembers(object) else { return nil }
        func string(_ key: String) -> String? {
            guard let r = members.last(where: { $0.key == key })?.value, object[r.lowerBound] == UInt8(ascii: "\"") else { return nil }
            return JSONScanner.string(object, r)
        }
        guard let peerID = string("peerId"), let key = string("key"),
              (1...ResumeClaim.maxLength).contains(peerID.utf8.count),
              (1...ResumeClaim.maxLength).contains(key.utf8.count) else { return nil }
        return ResumeClaim(peerID: peerID, key: key)
    }
}

/// A rejoining client's proof that it held seat `peerID`: the `resume` key
/// that seat's `welcome` carried (sent to that socket only).
public struct ResumeClaim: Sendable, Equatable {
    /// Longer ids or keys are never issued (ids are 11–12 characters, keys 22).
    public static let maxLength = 128
    public var peerID: String
    public var key: String

    public init(peerID: String, key: String) {
        self.peerID = peerID
        self.key = key
    }
}

/// Frames the server sends.
public enum ServerMessage: Sendable, Equatable {
    /// `resume`: this socket's seat key (DESIGN.md "Seat takeover"), sent
    /// to this socket only.
    case welcome(peerID: String, peers: [String], iceServers: JSONValue?, resume: String?)
    case peerJoined(peerID: String)
    case peerLeft(peerID: String)
    case signal(from: String, data: RawJSON)
    case pong
    case error(code: OtterError.Code, message: String)

    /// The frame's text, keys sorted; written directly (no JSONEncoder: a
    /// frame per relayed signal).
    public var text: String {
        var out = ""
        switch self {
        case .welcome(let id, let peers, let ice, let resume):
            out += "{"
            if let ice {
                out += "\"iceServers\":"
                JSONWriter.write(ice, into: &out)
                out += ","
            }
            out += "\"peerId\":"
            JSONWriter.string(id, into: &out)
            out += ",\"peers\":["
            for (k, p) in peers.enumerated() {
                if k > 0 { out += "," }
                JSONWriter.string(p, into: &out)
            }
            out += "]"
            if let resume {
                out += ",\"resume\":"
                JSONWriter.string(resume, into: &out)
            }
            out += ",\"type\":\"welcome\"}"
        case .peerJoined(let id):
            out += "{\"peerId\":"
            JSONWriter.string(id, into: &out)
            out += ",\"type\":\"peer-joined\"}"
        case .peerLeft(let id):
            out += "{\"peerId\":"
            JSONWriter.string(id, into: &out)
            out += ",\"type\":\"peer-left\"}"
        case .signal(let from, let data):
            out.reserveCapacity(data.text.utf8.count + from.utf8.count + 40)
            out += "{\"data\":"
            out += data.text
            out += ",\"from\":"
            JSONWriter.string(from, into: &out)
            out += ",\"type\":\"signal\"}"
        case .pong:
            out += "{\"type\":\"pong\"}"
        case .error(let code, let message):
            out += "{\"code\":"
            JSONWriter.string(code.rawValue, into: &out)
            out += ",\"message\":"
            JSONWriter.string(message, into: &out)
            out += ",\"type\":\"error\"}"
        }
        return out
    }
}
