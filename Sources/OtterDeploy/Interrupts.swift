import Dispatch
import Foundation
import Synchronization

/// Ctrl-C during a deploy or destroy: the first one asks the running step to
/// stop at a safe point (the waits check `isRequested`); a second one quits.
public final class Interrupts: Sendable {
    public static let shared = Interrupts()

    private let requested = Atomic<Int>(0)
    private let source = Mutex<(any DispatchSourceSignal)?>(nil)
    private let immediate = Mutex<(@Sendable () -> Void)?>(nil)

    public var isRequested: Bool { requested.load(ordering: .relaxed) > 0 }

    /// Installs the SIGINT handler (once).
    public func install(onSecond: @escaping @Sendable () -> Void) {
        source.withLock { src in
            guard src == nil else { return }
            signal(SIGINT, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
            s.setEventHandler { [self] in
                if let action = self.immediate.withLock({ $0 }) {
                    action()
                    return
                }
                let n = self.requested.add(1, ordering: .relaxed).newValue
                if n >= 2 { onSecond() }
            }
            s.resume()
            src = s
        }
    }

    /// Runs `body` (a blocking prompt) with Ctrl-C doing `onInterrupt` at once.
    public func during<T>(_ body: () -> T, onInterrupt: @escaping @Sendable () -> Void) -> T {
        immediate.withLock { $0 = onInterrupt }
        defer { immediate.withLock { $0 = nil } }
        return body()
    }

    /// Throws `.interrupted` when Ctrl-C was pressed.
    public func check(_ advice: String) throws {
        if isRequested { throw DeployError(.interrupted, advice) }
    }

    /// Sleeps in small steps so Ctrl-C is noticed within a quarter second.
    public func sleep(seconds: Double, advice: String) async throws {
        var left = seconds
        while left > 0 {
            try check(advice)
            let step = min(left, 0.25)
            try? await Task.sleep(for: .milliseconds(Int(step * 1000)))
            left -= step
        }
        try check(advice)
    }
}
