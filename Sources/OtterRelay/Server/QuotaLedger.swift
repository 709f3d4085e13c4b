import NIOConcurrencyHelpers

/// What one allocation takes of user-quota, total-quota and bps-capacity.
struct QuotaGrant: Sendable {
    var user: String
    /// Bytes per second in each direction, 0 for unlimited.
    var bps: Int
}

/// The quotas every pump's shard draws from: one allocation count, one count
/// per quota user and the bps granted, shared so that N shards refuse where
/// one would. A grant is taken when an Allocate is accepted (so Allocates
/// still binding count too) and given back when the Allocate fails or its
/// allocation goes. Its lock is taken only then, never per datagram, and
/// nothing else is locked while it is held.
final class QuotaLedger: Sendable {
    enum Refusal: Error { case totalQuota, userQuota, bpsCapacity }

    private struct Counts {
        var allocations = 0
        var perUser: [String: Int] = [:]
        var bps = 0
    }

    private let counts = NIOLockedValueBox(Counts())
    let totalQuota: Int
    let userQuota: Int
    let bpsCapacity: Int
    let maxBPS: Int

    init(configuration c: RelayConfiguration) {
        totalQuota = c.totalQuota
        userQuota = c.userQuota
        bpsCapacity = c.bpsCapacity
        maxBPS = c.maxBPS
    }

    /// One more allocation for `user`, or the quota it would break (checked
    /// in coturn's order: total, user, bandwidth).
    func take(user: String) -> Result<QuotaGrant, Refusal> {
        counts.withLockedValue { c in
            if totalQuota > 0, c.allocations >= totalQuota { return .failure(.totalQuota) }
            if userQuota > 0, c.perUser[user, default: 0] >= userQuota { return .failure(.userQuota) }
            var bps = maxBPS
            if bpsCapacity > 0 {
                bps = min(bps, bpsCapacity - c.bps)
                if bps <= 0 { return .failure(.bpsCapacity) }
            }
            c.allocations += 1
            c.perUser[user, default: 0] += 1
            c.bps += bps
            return .success(QuotaGrant(user: user, bps: bps))
        }
    }

    func release(_ grant: QuotaGrant) {
        counts.withLockedValue { c in
            c.allocations = max(0, c.allocations - 1)
            if let n = c.perUser[grant.user] { c.perUser[grant.user] = n > 1 ? n - 1 : nil }
            c.bps = max(0, c.bps - grant.bps)
        }
    }

    /// Allocations granted and not yet given back, in all shards.
    var allocations: Int { counts.withLockedValue { $0.allocations } }
}
