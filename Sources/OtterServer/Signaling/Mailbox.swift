import Synchronization

/// A bounded queue of outgoing text frames for one socket. Sending never
/// blocks; a peer that stops reading and lets the queue fill is cut off
/// rather than making the server buffer without limit.
final class Mailbox: Sendable {
    let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let overflowed = Atomic<Bool>(false)
    private let shuttingDown = Atomic<Bool>(false)

    init(capacity: Int = 4096) {
        (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    func send(_ text: String) {
        if case .dropped = continuation.yield(text) {
            overflowed.store(true, ordering: .relaxed)
            continuation.finish()
        }
    }

    /// No more frames: the writer drains what is queued, then closes the socket.
    func finish() { continuation.finish() }

    var didOverflow: Bool { overflowed.load(ordering: .relaxed) }

    /// The server is stopping: close with 1001 (going away) so clients reconnect elsewhere.
    func goAway() {
        shuttingDown.store(true, ordering: .relaxed)
        continuation.finish()
    }

    var isGoingAway: Bool { shuttingDown.load(ordering: .relaxed) }
}
