/// The sentences of the errors both implementations send, so a person reads
/// the same words from `otter up` and from the cloud. Templates/limits.json
/// ("messages") is the one copy the Lambda handlers read; LimitsFileTests
/// holds every sentence here to it.
public enum ErrorWording {
    // Signaling frames.
    public static func frameTooLarge(_ limit: Int) -> String { "frames are limited to \(limit) bytes" }
    public static let frameNotObject = "a frame must be a JSON object"
    public static let frameWithoutAction = #"a frame needs a string "action""#
    public static func unknownAction(_ action: some StringProtocol) -> String { #"unknown action "\#(action)""# }
    public static let signalWithoutTo = #"signal needs a string "to""#
    public static let signalWithoutData = #"signal needs an object "data""#
    public static let alreadyJoined = "already joined"
    public static let signalBeforeJoin = "join the room before signaling"
    public static func unknownPeer(_ peerID: some StringProtocol) -> String { "no peer \(peerID) in this room" }
    public static func roomFull(_ maxPeers: Int) -> String { "this room is full (\(maxPeers) people)" }
    public static let rateLimited = "too many messages; slow down and reconnect"

    // Room tokens.
    public static let tokenExpired = "the room link has expired; ask for a new one"
    public static let tokenNotJWT = "the room token is not a JWT"
    public static let tokenNotHS256 = "the room token must be signed with HS256"
    public static let tokenInvalid = "the room token's signature or claims are invalid"
    public static let tokenOtherRoom = "this token is for another room"
    public static let roomNotFound = "the room does not exist or has expired"

    // REST requests.
    public static let apiKeyMissing = "send your API key in the x-api-key header"
    public static let apiKeyInvalid = "the API key is not valid (was it rotated?)"
    public static let bearerMissing = "send the room token as Authorization: Bearer <token>"
    public static func bodyTooLarge(_ limit: Int) -> String { "the request body is limited to \(limit) bytes" }
    public static let bodyNotJSON = "send the body as Content-Type: application/json"
    public static let bodyNotObject = "the body must be a JSON object"
    public static func badMaxPeers(_ range: ClosedRange<Int>) -> String {
        "maxPeers must be an integer from \(range.lowerBound) to \(range.upperBound)"
    }
    public static func badTTL(_ range: ClosedRange<Int>) -> String {
        "ttlSeconds must be an integer from \(range.lowerBound) to \(range.upperBound)"
    }
}
