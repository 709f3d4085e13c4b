/// What one allocation takes of user-quota, total-quota and bps-capacity.
struct QuotaGrant {
    var user: String
    /// Bytes per second in each direction, 0 for unlimited.
    var bps: Int
}

extension RelayEngine {
    /// The user an allocation counts against, coturn's rule (userdb.c
    /// get_real_username): with use-auth-secret the REST username's timestamp
    /// is dropped — `expiry:user` and `user:expiry` count as `user` — so a
    /// room's credentials share one quota however many were handed out.
    /// Without it (static users) the username itself.
    func quotaUser(_ username: String) -> String {
        Self.quotaUser(username, restScheme: config.useAuthSecret)
    }

    static func quotaUser(_ username: String, restScheme: Bool) -> String {
        guard restScheme, let colon = username.firstIndex(of: ":") else { return username }
        let head = username[..<colon]
        if head.allSatisfy({ $0.isASCII && $0.isNumber }) { return String(username[username.index(after: colon)...]) }
        return String(head)
    }

    /// Checks the quotas for one more allocation of `username`, counting
    /// Allocates still binding; nil (with the 486 sent) when one is reached.
    /// Nothing is taken until finishAllocate.
    func grantQuota(_ msg: STUNMessage, link: ClientLink, auth who: AuthResult) -> QuotaGrant? {
        let user = quotaUser(who.username)
        let pendingForUser = pending.isEmpty ? 0 : pending.values.reduce(0) { $0 + ($1.user == user ? 1 : 0) }
        // coturn answers 486 for both quotas (ns_turn_server.c, check_new_allocation_quota).
        if config.totalQuota > 0, allocations.count + pending.count >= config.totalQuota {
            return refuseQuota(msg, link: link, auth: who, "total-quota")
        }
        if config.userQuota > 0, perUser[user, default: 0] + pendingForUser >= config.userQuota {
            return refuseQuota(msg, link: link, auth: who, "user-quota")
        }
        var bps = config.maxBPS
        if config.bpsCapacity > 0 {
            let granted = bpsGranted + pending.values.reduce(0) { $0 + $1.bps }
            bps = min(bps, config.bpsCapacity - granted)
            if bps <= 0 {
                return refuseQuota(msg, link: link, auth: who, "bps-capacity", reason: "Allocation Bandwidth Quota Reached")
            }
        }
        return QuotaGrant(user: user, bps: bps)
    }

    private func refuseQuota(_ msg: STUNMessage, link: ClientLink, auth who: AuthResult, _ which: String,
                             reason: String? = nil) -> QuotaGrant? {
        metrics.allocationsOverQuota += 1
        logger.info("allocation refused", metadata: ["quota": "\(which)", "user": "\(who.username)"])
        error(msg, link: link, .allocationQuotaReached, reason, auth: who)
        return nil
    }

    func takeQuota(_ grant: QuotaGrant) {
        perUser[grant.user, default: 0] += 1
        bpsGranted += grant.bps
    }

    func releaseQuota(user: String, bps: Int) {
        if let n = perUser[user] { perUser[user] = n > 1 ? n - 1 : nil }
        bpsGranted = max(0, bpsGranted - bps)
    }
}
