#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CRelayIO

/// The UDP pump's own OS thread, started with pthreads: Foundation's `Thread` would map
/// Foundation proper (and ICU) into the relay-only process for one call.
enum PumpThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `body` on a new detached thread named `name` (at most 15 bytes: the kernel's
    /// limit, shown by `top -H` and `ps -L`).
    static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(RelayError) {
        let context = Unmanaged.passRetained(Body {
            name.withCString { crelay_name_this_thread($0) }
            body()
        }).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            throw RelayError(.bindFailed, "cannot start the relay's pump thread: \(String(cString: strerror(rc)))")
        }
        pthread_detach(thread)
    }
}
