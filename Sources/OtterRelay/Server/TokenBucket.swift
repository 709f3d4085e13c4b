import NIOCore

/// max-bps for one direction of one allocation. coturn counts each direction
/// ("input and output network streams are treated separately") against
/// max-bps bytes per second; a bucket holding at most one second of bytes,
/// refilled continuously, gives the same long-run rate without coturn's
/// once-a-second reset. Packets over the budget are dropped, as in coturn.
struct TokenBucket {
    private(set) var tokens: Int
    private var stamp: NIODeadline

    init(rate: Int, now: NIODeadline) {
        tokens = rate
        stamp = now
    }

    @inline(__always)
    mutating func admit(bytes: Int, rate: Int, now: NIODeadline) -> Bool {
        let elapsed = (now - stamp).nanoseconds
        if elapsed > 0 {
            // Clamp before multiplying so a long idle gap cannot overflow.
            let add = elapsed >= 1_000_000_000 ? rate : Int(Int64(rate) * elapsed / 1_000_000_000)
            if add > 0 {
                // Only move the stamp when tokens were added, so frequent small
                // packets do not round the refill down to nothing.
                tokens = min(rate, tokens + add)
                stamp = now
            }
        }
        guard tokens >= bytes else { return false }
        tokens -= bytes
        return true
    }
}
