/// What `otter template` (and `otter deploy`) can vary. Everything else in the
/// stack is fixed, so every variant is one that the tests lint.
public struct OtterStackOptions: Sendable, Equatable {
    /// Stack name: the `otter:stack` tag value and the prefix of names that must be unique.
    public var stackName: String
    /// Default `maxPeers` of a new room (2…4, DESIGN.md).
    public var maxPeers: Int
    /// The relay container image (coturn's official image, or an `otter relay` image with the same flags).
    public var relayImage: String
    public var relayMinTasks: Int
    public var relayMaxTasks: Int
    /// coturn `--user-quota`: concurrent allocations per TURN username. Every member of a
    /// room shares one REST username (`expiry:roomId`), and Chromium allocates per peer
    /// connection and per transport (UDP, TCP, TLS), so a 4-peer mesh needs dozens.
    public var relayUserQuota: Int
    /// coturn `--total-quota`: concurrent allocations on one relay task.
    public var relayTotalQuota: Int
    /// coturn `--max-bps`: bytes per second one allocation may relay (each direction).
    public var relayMaxBps: Int
    /// TURN over TLS on 443: the name users reach the relay by (a CNAME to the load
    /// balancer, which the user creates) and the ACM certificate for it. Both or neither.
    public var domain: String?
    public var certificateArn: String?
    /// The relay image is Otter's own (`otter deploy` built it from itself): it has no shell,
    /// so the task passes `--external-ip=auto` and takes the TURN secret from TURN_SECRET,
    /// instead of the `$(detect-external-ip)` and `$TURN_SECRET` coturn's image expands.
    public var relayImageIsOtter: Bool

    /// Pinned: an unpinned tag would let an upstream release (with the circuit breaker's
    /// rollback) change a redeploy. coturn's `X.Y.Z` tags follow that release's image rebuilds
    /// (base OS security updates), never another coturn version.
    public static let defaultRelayImage = "coturn/coturn:4.6.3"
    /// Fargate tasks per service; kept small because each task is a public IP and a bill.
    public static let relayTaskLimit = 20
    /// Per room, as coturn counts a TURN REST user (the username without its
    /// timestamp): a full 4-peer room in Chromium can take 4 browsers × 3
    /// connections × 4 TURN URLs × 2 networks = 96, and a reload or ICE restart
    /// leaves some until they expire. The same default as `otter relay`.
    public static let defaultRelayUserQuota = 128
    /// Sized for the 0.5 vCPU / 1 GB task: its CPU, not memory, runs out first (scaling
    /// adds tasks at 70 % CPU), and 1000 allocations at a few hundred kbit/s each is more
    /// than one task forwards.
    public static let defaultRelayTotalQuota = 1000
    /// 500,000 bytes/s ≈ 4 Mbit/s: a 720p WebRTC video stream with audio and headroom.
    public static let defaultRelayMaxBps = 500_000
    /// A room's seats, as OtterCore.RoomRules (this module stays free of it); Templates/limits.json
    /// "room" is the one copy, and Tests/stacks/test_limits.py holds the MaxPeers parameter to it.
    public static let maxPeersRange = 2...4
    public static let defaultMaxPeers = 2
    public static let relayUserQuotaRange = 1...10_000
    public static let relayTotalQuotaRange = 1...100_000
    /// From 16,000 bytes/s (≈128 kbit/s: audio and a thumbnail-sized video) to 100 Mbit/s.
    /// No "0 = unlimited": an unmetered relay is what the quotas are there to prevent.
    public static let relayMaxBpsRange = 16_000...12_500_000

    public init(stackName: String = "otter", maxPeers: Int = OtterStackOptions.defaultMaxPeers, relayImage: String = OtterStackOptions.defaultRelayImage,
                relayMinTasks: Int = 1, relayMaxTasks: Int = 4,
                relayUserQuota: Int = OtterStackOptions.defaultRelayUserQuota,
                relayTotalQuota: Int = OtterStackOptions.defaultRelayTotalQuota,
                relayMaxBps: Int = OtterStackOptions.defaultRelayMaxBps,
                domain: String? = nil, certificateArn: String? = nil, relayImageIsOtter: Bool = false) {
        self.stackName = stackName
        self.maxPeers = maxPeers
        self.relayImage = relayImage
        self.relayMinTasks = relayMinTasks
        self.relayMaxTasks = relayMaxTasks
        self.relayUserQuota = relayUserQuota
        self.relayTotalQuota = relayTotalQuota
        self.relayMaxBps = relayMaxBps
        self.domain = domain
        self.certificateArn = certificateArn
        self.relayImageIsOtter = relayImageIsOtter
    }

    /// Checks the options; the messages name the option and the accepted values.
    public func validate() throws(OptionsError) {
        let first = stackName.unicodeScalars.first
        guard let first, stackName.count <= 128, ("a"..."z").contains(first) || ("A"..."Z").contains(first),
              stackName.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") })
        else {
            throw OptionsError("--stack must start with a letter and contain only letters, digits and '-' (at most 128 characters); got '\(stackName)'")
        }
        // `otter deploy` keeps a stack's state in .otter/<stack>.json, beside `otter up`'s
        // .otter/up.json: a stack named `up` would overwrite it (any case: some file systems ignore it).
        guard stackName.lowercased() != "up" else {
            throw OptionsError("--stack up is reserved: .otter/up.json is where `otter up` records its address. Choose another name, e.g. --stack otter-up")
        }
        guard Self.maxPeersRange.contains(maxPeers) else {
            throw OptionsError("--max-peers must be 2, 3 or 4 (a mesh call beyond 4 peers does not hold up); got \(maxPeers)")
        }
        guard !relayImage.isEmpty, relayImage.count <= 255,
              relayImage.unicodeScalars.allSatisfy({ $0.isASCII && !$0.properties.isWhitespace && $0.value > 0x20 })
        else {
            throw OptionsError("--relay-image must be an image reference such as \(Self.defaultRelayImage) or 123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter-relay:1.0 (no spaces); got '\(relayImage)'")
        }
        guard (1...Self.relayTaskLimit).contains(relayMinTasks) else {
            throw OptionsError("--relay-min must be from 1 to \(Self.relayTaskLimit); got \(relayMinTasks)")
        }
        guard (1...Self.relayTaskLimit).contains(relayMaxTasks) else {
            throw OptionsError("--relay-max must be from 1 to \(Self.relayTaskLimit); got \(relayMaxTasks)")
        }
        guard relayMinTasks <= relayMaxTasks else {
            throw OptionsError("--relay-min (\(relayMinTasks)) must not be above --relay-max (\(relayMaxTasks))")
        }
        try validateQuotas()
        try validateTLS()
    }

    private func validateQuotas() throws(OptionsError) {
        let (user, total, bps) = (Self.relayUserQuotaRange, Self.relayTotalQuotaRange, Self.relayMaxBpsRange)
        guard user.contains(relayUserQuota) else {
            throw OptionsError("--relay-user-quota must be from \(user.lowerBound) to \(user.upperBound) allocations per TURN username (a room's members share one; a 4-peer mesh needs dozens); got \(relayUserQuota)")
        }
        guard total.contains(relayTotalQuota) else {
            throw OptionsError("--relay-total-quota must be from \(total.lowerBound) to \(total.upperBound) allocations per relay task; got \(relayTotalQuota)")
        }
        guard relayUserQuota <= relayTotalQuota else {
            throw OptionsError("--relay-user-quota (\(relayUserQuota)) must not be above --relay-total-quota (\(relayTotalQuota))")
        }
        guard bps.contains(relayMaxBps) else {
            throw OptionsError("--relay-max-bps must be from \(bps.lowerBound) to \(bps.upperBound) bytes per second per allocation (\(Self.defaultRelayMaxBps) ≈ 4 Mbit/s); got \(relayMaxBps)")
        }
    }

    private func validateTLS() throws(OptionsError) {
        switch (domain, certificateArn) {
        case (nil, nil):
            return
        case (.some, nil), (nil, .some):
            throw OptionsError("--domain and --certificate-arn go together (TURN over TLS on 443 needs the name and its ACM certificate); give both or neither")
        case (let domain?, let arn?):
            guard Self.isHostname(domain) else {
                throw OptionsError("--domain must be a host name such as turn.example.com (letters, digits, '-', at least two labels, no trailing dot); got '\(domain)'")
            }
            guard Self.isCertificateArn(arn) else {
                throw OptionsError("--certificate-arn must be an ACM certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/ID (in the stack's region); got '\(arn)'")
            }
        }
    }

    /// RFC 1123 host name with at least two labels and an alphabetic top-level label.
    static func isHostname(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let top = labels.last, top.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic && $0.isASCII })
        else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
        }
    }

    /// `arn:<partition>:acm:<region>:<12-digit account>:certificate/<id>`.
    static func isCertificateArn(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", ["aws", "aws-cn", "aws-us-gov"].contains(parts[1]), parts[2] == "acm"
        else { return false }
        let region = parts[3].split(separator: "-", omittingEmptySubsequences: false)
        guard region.count >= 3, region.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isLowercase || ("0"..."9").contains($0)) } }),
              region.last!.allSatisfy(\.isNumber)
        else { return false }
        guard parts[4].utf8.count == 12, parts[4].utf8.allSatisfy({ (48...57).contains($0) }) else { return false }
        guard parts[5].hasPrefix("certificate/") else { return false }
        let id = parts[5].dropFirst("certificate/".count)
        return !id.isEmpty && id.utf8.count <= 128
            && id.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
    }
}

public struct OptionsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
