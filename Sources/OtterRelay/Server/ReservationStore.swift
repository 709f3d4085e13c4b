import NIOConcurrencyHelpers
import NIOCore

/// Relay ports held for RESERVATION-TOKEN (EVEN-PORT R=1, RFC 8656 §7.2),
/// shared by the pump shards: the Allocate that uses a token may come from
/// another client 5-tuple, which SO_REUSEPORT can hash to another shard.
/// With the pump every reserved socket is a bare descriptor in no epoll set
/// (`.pump(fd, 0)`), so any shard can take it; NIO channels are reserved
/// only without the pump, where there is one shard.
final class ReservationStore: @unchecked Sendable {
    struct Reservation {
        var socket: RelaySocket
        var expiry: NIODeadline
    }

    private let lock = NIOLock()
    private var held: [UInt64: Reservation] = [:]

    /// Holds `socket` for 30 s (coturn's and RFC 8656's figure); returns its token.
    func hold(_ socket: RelaySocket, now: NIODeadline = .now()) -> UInt64 {
        lock.withLock {
            var token = UInt64.random(in: 1...UInt64.max)
            while held[token] != nil { token = UInt64.random(in: 1...UInt64.max) }
            held[token] = Reservation(socket: socket, expiry: now + .seconds(30))
            return token
        }
    }

    func take(_ token: UInt64) -> RelaySocket? {
        lock.withLock { held.removeValue(forKey: token)?.socket }
    }

    /// Removes and returns the reservations past their expiry, for the caller to close.
    func expired(now: NIODeadline) -> [RelaySocket] {
        lock.withLock {
            let gone = held.filter { $0.value.expiry <= now }
            for token in gone.keys { held[token] = nil }
            return gone.values.map(\.socket)
        }
    }

    func removeAll() -> [RelaySocket] {
        lock.withLock {
            defer { held.removeAll() }
            return held.values.map(\.socket)
        }
    }
}
