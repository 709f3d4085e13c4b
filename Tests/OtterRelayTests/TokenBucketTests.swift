import NIOCore
import Testing
@testable import OtterRelay

struct TokenBucketTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    /// Offers `bytes` at `start + after` and tells whether they were admitted.
    func offer(_ b: inout TokenBucket, _ bytes: Int, after: TimeAmount = .zero, rate: Int = 1000) -> Bool {
        b.admit(bytes: bytes, rate: rate, now: start + after)
    }

    @Test func allowsOneSecondOfBytesThenDrops() {
        var b = TokenBucket(rate: 1000, now: start)
        let first = offer(&b, 600), second = offer(&b, 400), third = offer(&b, 1)
        #expect(first && second)
        #expect(!third)
    }

    @Test func refillsAtTheRateAndNeverAboveOneSecond() {
        var b = TokenBucket(rate: 1000, now: start)
        let all = offer(&b, 1000)
        // 250 ms later a quarter of the rate is back.
        let tooMuch = offer(&b, 300, after: .milliseconds(250))
        let quarter = offer(&b, 250, after: .milliseconds(250))
        // After a long idle gap the burst is still one second's worth.
        let overBurst = offer(&b, 1001, after: .seconds(3600))
        let burst = offer(&b, 1000, after: .seconds(3600))
        #expect(all && quarter && burst)
        #expect(!tooMuch && !overBurst)
    }

    @Test func smallFrequentPacketsStillGetTheRate() {
        // 100-byte packets every millisecond for 2 s against 10 kB/s: about
        // 10 kB of burst plus 20 kB of refill, not zero (rounding) and not all 200 kB.
        var b = TokenBucket(rate: 10_000, now: start)
        var admitted = 0
        for ms in 0..<2000 where offer(&b, 100, after: .milliseconds(Int64(ms)), rate: 10_000) {
            admitted += 100
        }
        #expect(admitted >= 29_000 && admitted <= 30_100)
    }
}
