import NIOCore
import OtterCore
import Synchronization

/// Who is in which room. A mutex (not an actor) guards the rooms: every
/// relayed signal takes it once for a dictionary lookup, and an actor hop per
/// message cost more than the rest of the relay path together. Frames are
/// written after the lock is released, so a write that fails and closes a
/// socket can come back into the hub without deadlocking.
public final class SignalingHub: Sendable {
    private struct Rooms: ~Copyable {
        var rooms: [String: [String: SignalingPeer]] = [:]
        /// Every open socket, joined or not, so shutdown can close them all.
        var connections: [ObjectIdentifier: SignalingPeer] = [:]
        var closing = false
    }

    private let state = Mutex(Rooms())

    public init() {}

    public enum JoinResult: Sendable, Equatable {
        case joined(peerID: String, peers: [String])
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
    func join(roomID: String, maxPeers: Int, peer: SignalingPeer, encode: (ServerMessage) -> ByteBuffer) -> JoinResult {
        let (result, others): (JoinResult, [SignalingPeer]) = state.withLock { s in
            var members = s.rooms[roomID, default: [:]]
            guard members.count < maxPeers else { return (.full, []) }
            var peerID = Secrets.newSecret(bytes: 8)
            while members[peerID] != nil { peerID = Secrets.newSecret(bytes: 8) }
            let others = Array(members.values)
            let ids = members.keys.sorted()
            members[peerID] = peer
            s.rooms[roomID] = members
            return (.joined(peerID: peerID, peers: ids), others)
        }
        if case .joined(let id, _) = result, !others.isEmpty {
            let frame = encode(.peerJoined(peerID: id))
            for other in others { other.send(frame) }
        }
        return result
    }

    /// The peer `to` if it is in the same room (and is not the sender).
    func target(roomID: String, from: String, to: String) -> SignalingPeer? {
        guard to != from else { return nil }
        return state.withLock { $0.rooms[roomID]?[to] }
    }

    /// Removes a peer and tells the rest of its room.
    func leave(roomID: String, peerID: String, encode: (ServerMessage) -> ByteBuffer) {
        let rest: [SignalingPeer]? = state.withLock { s in
            guard s.rooms[roomID]?.removeValue(forKey: peerID) != nil else { return nil }
            guard let members = s.rooms[roomID], !members.isEmpty else {
                s.rooms[roomID] = nil
                return []
            }
            return Array(members.values)
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
