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
