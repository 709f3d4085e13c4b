#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The relay engine's lock. The engine has two threads since UDP moved off
/// NIO (the NIO event loop for TCP/TLS, timers and metrics; the UDP pump for
/// listeners and UDP relay sockets); every entry into engine state takes
/// this lock, so at any moment one thread owns the state.
/// Recursive because engine code calls into NIO (close, write) while holding
/// it, and NIO may call straight back into the engine (channelInactive) on
/// the same thread — as it did when the engine was confined to one loop.
final class RecursiveLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        var attr = pthread_mutexattr_t()
        pthread_mutexattr_init(&attr)
        pthread_mutexattr_settype(&attr, CInt(PTHREAD_MUTEX_RECURSIVE))
        let rc = pthread_mutex_init(mutex, &attr)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
        pthread_mutexattr_destroy(&attr)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
