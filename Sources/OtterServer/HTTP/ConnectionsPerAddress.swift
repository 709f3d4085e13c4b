import NIOCore
import Synchronization

/// How many connections each client address holds, shared by every
/// connection of one server.
final class ConnectionCounter: Sendable {
    let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts one more connection for `address`; false (and not counted) when it holds `limit` already.
    func acquire(_ address: String) -> Bool {
        counts.withLock { counts in
            let n = counts[address, default: 0]
            guard n < limit else { return false }
            counts[address] = n + 1
            return true
        }
    }

    func release(_ address: String) {
        counts.withLock { counts in
            let n = counts[address, default: 0] - 1
            counts[address] = n > 0 ? n : nil
        }
    }

    func count(_ address: String) -> Int {
        counts.withLock { $0[address, default: 0] }
    }
}

/// Closes a new connection at once when its client address already holds
/// `counter.limit` (HTTP and WebSocket alike): one address cannot take every
/// file descriptor the process has. First in the pipeline, so a refused
/// connection costs no parsing; it stays for the connection's life to count
/// its end.
final class ConnectionsPerAddress: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    static let name = "otter.connections-per-address"

    private let counter: ConnectionCounter
    private var address: String?

    init(counter: ConnectionCounter) {
        self.counter = counter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        leave()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        leave()
    }

    private func admit(context: ChannelHandlerContext) {
        guard address == nil, let ip = context.channel.remoteAddress?.ipAddress else { return }
        if counter.acquire(ip) {
            address = ip
        } else {
            context.close(promise: nil)
        }
    }

    private func leave() {
        if let address { counter.release(address) }
        address = nil
    }
}
