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

    /// Takes one more allocation of `username` from the shared quotas
    /// (QuotaLedger, which counts Allocates still binding); nil, with the
    /// 486 sent, when one is reached. The caller gives the grant back
    /// (releaseQuota) if the Allocate fails after this.
    func grantQuota(_ msg: STUNMessage, link: ClientLink, auth who: AuthResult) -> QuotaGrant? {
        switch quotas.take(user: quotaUser(who.username)) {
        case .success(let grant): return grant
        // coturn answers 486 for every quota (ns_turn_server.c, check_new_allocation_quota).
        case .failure(.totalQuota): return refuseQuota(msg, link: link, auth: who, "total-quota")
        case .failure(.userQuota): return refuseQuota(msg, link: link, auth: who, "user-quota")
        case .failure(.bpsCapacity):
            return refuseQuota(msg, link: link, auth: who, "bps-capacity", reason: "Allocation Bandwidth Quota Reached")
        }
    }

    private func refuseQuota(_ msg: STUNMessage, link: ClientLink, auth who: AuthResult, _ which: String,
                             reason: String? = nil) -> QuotaGrant? {
        metrics.allocationsOverQuota += 1
        logger.info("allocation refused", metadata: ["quota": "\(which)", "user": "\(who.username)"])
        error(msg, link: link, .allocationQuotaReached, reason, auth: who)
        return nil
    }

    func releaseQuota(_ grant: QuotaGrant) {
        quotas.release(grant)
    }
}
