import NIOCore
import OtterCore
import Synchronization

/// Who is in which room. A mutex (not an actor) guards the rooms: every
/// relayed signal takes it once for a dictionary lookup, and an actor hop per
/// message cost more than the rest of the relay path together. Frames are
/// written after the lock is released, so a write that fails and closes a
/// socket can come back into the hub without deadlocking.
public final class SignalingHub: Sendable {
    /// One taken seat: its socket, and the key that lets a rejoin of the
    /// same browser take it over (DESIGN.md "Seat takeover").
    private struct Seat {
        let peer: SignalingPeer
        let resumeKey: String
    }

    private struct Rooms: ~Copyable {
        var rooms: [String: [String: Seat]] = [:]
        /// Every open socket, joined or not, so shutdown can close them all.
        var connections: [ObjectIdentifier: SignalingPeer] = [:]
        var closing = false
        /// Sockets not joined yet, per room (one token per room) and per client address.
        var pendingByRoom: [String: Int] = [:]
        var pendingByAddress: [String: Int] = [:]
    }

    private let state = Mutex(Rooms())
    /// Most sockets one room's token, or one address, may hold before `join`:
    /// a room seats at most 4 and a reload briefly leaves a second socket, so
    /// 16 is slack for honest use and a small bound for a script.
    public let maxPendingPerRoom: Int
    public let maxPendingPerAddress: Int

    public init(maxPendingPerRoom: Int = 16, maxPendingPerAddress: Int = 16) {
        self.maxPendingPerRoom = maxPendingPerRoom
        self.maxPendingPerAddress = maxPendingPerAddress
    }

    /// Counts a socket that has not joined yet; false (not counted) when its
    /// room or its address already has the most allowed.
    func admitPending(roomID: String, address: String) -> Bool {
        state.withLock { s in
            guard s.pendingByRoom[roomID, default: 0] < maxPendingPerRoom,
                  s.pendingByAddress[address, default: 0] < maxPendingPerAddress else { return false }
            s.pendingByRoom[roomID, default: 0] += 1
            s.pendingByAddress[address, default: 0] += 1
            return true
        }
    }

    func leavePending(roomID: String, address: String) {
        state.withLock { s in
            let r = s.pendingByRoom[roomID, default: 0] - 1
            s.pendingByRoom[roomID] = r > 0 ? r : nil
            let a = s.pendingByAddress[address, default: 0] - 1
            s.pendingByAddress[address] = a > 0 ? a : nil
        }
    }

    public enum JoinResult: Sendable, Equatable {
        /// `resumeKey` goes in this socket's welcome only; `replaced` is the
        /// seat a valid resume claim took over (its socket is being closed).
        case joined(peerID: String, peers: [String], resumeKey: String, replaced: String?)
        case full
    }

    /// Registers an open socket; false when the server is already shutting down.
    func connect(_ peer: SignalingPeer) -> Bool {
        state.withLock { s in
            guard !s.closing else { return false }
            s.connections[ObjectIdentifier(peer)] = peer
            return true
        }
    }

    func disconnect(_ peer: SignalingPeer) {
        _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(peer)) }
    }

    /// Closes every socket with "going away" (graceful shutdown).
    public func closeAll() {
        let all = state.withLock { s in
            s.closing = true
            return Array(s.connections.values)
        }
        for peer in all { peer.requestClose(.goingAway, reason: "server is shutting down") }
    }

    /// Seats a peer if the room has space; tells the others it arrived.
    ///
    /// With a `resume` claim whose key matches the claimed seat of this room,
    /// that seat is freed first (the others get `peer-left` for it, its socket
    /// is closed) and then counted: a browser whose old socket died silently
    /// gets its seat back at once instead of `room-full` until the dead TCP
    /// connection is noticed. Any other claim (wrong key, unknown id, a seat of
    /// another room) is a plain join, with nothing to tell a guess from a miss.
    func join(roomID: String, maxPeers: Int, peer: SignalingPeer, resume: ResumeClaim? = nil,
              encode: (ServerMessage) -> ByteBuffer) -> JoinResult {
        let resumeKey = Secrets.newSecret(bytes: 16)  // 128 bits; drawn outside the lock
        let (result, others, replaced): (JoinResult, [SignalingPeer], Seat?) = state.withLock { s in
            var members = s.rooms[roomID, default: [:]]
            var taken: (id: String, seat: Seat)?
            if let resume, let seat = members[resume.peerID], seat.peer !== peer,
               Secrets.constantTimeEquals(Array(seat.resumeKey.utf8), Array(resume.key.utf8)) {
                members[resume.peerID] = nil
                taken = (resume.peerID, seat)
            }
            // `members` is a copy: a refusal below leaves the room (and any claimed seat) as it was.
            guard members.count < maxPeers else { return (.full, [], nil) }
            var peerID = Secrets.newSecret(bytes: 8)
            while members[peerID] != nil || peerID == taken?.id { peerID = Secrets.newSecret(bytes: 8) }
            let others = members.values.map(\.peer)
            let ids = members.keys.sorted()
            members[peerID] = Seat(peer: peer, resumeKey: resumeKey)
            s.rooms[roomID] = members
            return (.joined(peerID: peerID, peers: ids, resumeKey: resumeKey, replaced: taken?.id), others, taken?.seat)
        }
        guard case .joined(let id, _, _, let replacedID) = result else { return result }
        if let replacedID, let replaced {
            // As if the old socket had left, then the new one joined.
            if !others.isEmpty {
                let left = encode(.peerLeft(peerID: replacedID))
                for other in others { other.send(left) }
            }
            replaced.peer.requestClose(.normalClosure, reason: "this seat was taken over by a rejoin")
        }
        if !others.isEmpty {
            let frame = encode(.peerJoined(peerID: id))
            for other in others { other.send(frame) }
        }
        return result
    }

    /// The peer `to` if it is in the same room (and is not the sender), while
    /// `sender` still holds seat `from` (a seat taken over stops relaying at once).
    func target(roomID: String, from: String, sender: SignalingPeer, to: String) -> SignalingPeer? {
        guard to != from else { return nil }
        return state.withLock { s in
            guard let members = s.rooms[roomID], members[from]?.peer === sender else { return nil }
            return members[to]?.peer
        }
    }

    /// Removes a peer (if `peer` still holds that seat: one taken over is
    /// gone already) and tells the rest of its room.
    func leave(roomID: String, peerID: String, peer: SignalingPeer, encode: (ServerMessage) -> ByteBuffer) {
        let rest: [SignalingPeer]? = state.withLock { s in
            guard s.rooms[roomID]?[peerID]?.peer === peer else { return nil }
            s.rooms[roomID]?[peerID] = nil
            guard let members = s.rooms[roomID], !members.isEmpty else {
                s.rooms[roomID] = nil
                return []
            }
            return members.values.map(\.peer)
        }
        guard let rest, !rest.isEmpty else { return }
        let frame = encode(.peerLeft(peerID: peerID))
        for peer in rest { peer.send(frame) }
    }

    /// Peers currently in a room (for tests and metrics).
    public func peers(in roomID: String) -> [String] {
        state.withLock { $0.rooms[roomID].map { $0.keys.sorted() } ?? [] }
    }
}
