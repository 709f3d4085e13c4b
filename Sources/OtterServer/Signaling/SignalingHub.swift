import OtterCore

/// Who is in which room. One actor owns all rooms so joins, capacity checks
/// and delivery order are serial; delivery itself is a non-blocking push into
/// each peer's mailbox, so one slow browser never stalls the others.
public actor SignalingHub {
    struct Member {
        let mailbox: Mailbox
    }

    private var rooms: [String: [String: Member]] = [:]
    /// Every open socket, joined or not, so shutdown can close them all.
    private var connections: [ObjectIdentifier: Mailbox] = [:]
    private var closing = false
    private(set) var peerCount = 0

    public init() {}

    public enum JoinResult: Sendable, Equatable {
        case joined(peerID: String, peers: [String])
        case full
    }

    /// Registers an open socket; false when the server is already shutting down.
    func connect(_ mailbox: Mailbox) -> Bool {
        guard !closing else { return false }
        connections[ObjectIdentifier(mailbox)] = mailbox
        return true
    }

    func disconnect(_ mailbox: Mailbox) {
        connections[ObjectIdentifier(mailbox)] = nil
    }

    /// Closes every socket with "going away" (graceful shutdown).
    public func closeAll() {
        closing = true
        for (_, m) in connections { m.goAway() }
    }

    /// Seats a peer if the room has space; tells the others it arrived.
    func join(roomID: String, maxPeers: Int, mailbox: Mailbox) -> JoinResult {
        var members = rooms[roomID, default: [:]]
        guard members.count < maxPeers else { return .full }
        var peerID = Secrets.newSecret(bytes: 8)
        while members[peerID] != nil { peerID = Secrets.newSecret(bytes: 8) }
        let others = members.keys.sorted()
        let joined = ServerMessage.peerJoined(peerID: peerID).text
        for (_, m) in members { m.mailbox.send(joined) }
        members[peerID] = Member(mailbox: mailbox)
        rooms[roomID] = members
        peerCount += 1
        return .joined(peerID: peerID, peers: others)
    }

    /// Delivers an encoded frame to `to` if it is in the same room; false
    /// otherwise. The frame is encoded by the sender's task, not here, so the
    /// one actor every room shares only looks up and pushes.
    func signal(roomID: String, from: String, to: String, frame: String) -> Bool {
        guard let target = rooms[roomID]?[to], to != from else { return false }
        target.mailbox.send(frame)
        return true
    }

    /// Removes a peer and tells the rest of its room.
    func leave(roomID: String, peerID: String) {
        guard rooms[roomID]?.removeValue(forKey: peerID) != nil else { return }
        peerCount -= 1
        let left = ServerMessage.peerLeft(peerID: peerID).text
        if let rest = rooms[roomID], !rest.isEmpty {
            for (_, m) in rest { m.mailbox.send(left) }
        } else {
            rooms[roomID] = nil
        }
    }

    /// Peers currently in a room (for tests and metrics).
    public func peers(in roomID: String) -> [String] { rooms[roomID].map { $0.keys.sorted() } ?? [] }
}
