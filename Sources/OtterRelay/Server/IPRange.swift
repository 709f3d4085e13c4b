#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// An inclusive range of addresses, coturn's `ip` or `ip-ip` syntax
/// (not CIDR, as coturn's denied-peer-ip/allowed-peer-ip).
public struct IPRange: Hashable, Sendable, CustomStringConvertible {
    public var low: STUNAddress.IP
    public var high: STUNAddress.IP

    public init(low: STUNAddress.IP, high: STUNAddress.IP) {
        self.low = low
        self.high = high
    }

    public init(_ text: String) throws {
        let parts = text.split(separator: "-", maxSplits: 1).map { $0.trimmingWhitespace() }
        guard let first = parts.first, let lo = IPRange.parseIP(String(first)) else {
            throw RelayError(.badValue, "'\(text)' is not an IP address or an ip-ip range")
        }
        var hi = lo
        if parts.count == 2 {
            guard let h = IPRange.parseIP(String(parts[1])) else {
                throw RelayError(.badValue, "'\(text)': '\(parts[1])' is not an IP address")
            }
            hi = h
        }
        guard IPRange.sameFamily(lo, hi), IPRange.compare(lo, hi) <= 0 else {
            throw RelayError(.badValue, "'\(text)': the range must go from low to high within one address family")
        }
        self.init(low: lo, high: hi)
    }

    /// Parses an IPv4 or IPv6 literal; IPv4-mapped IPv6 becomes IPv4.
    public static func parseIP(_ text: String) -> STUNAddress.IP? {
        let t = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        guard let sa = try? SocketAddress(ipAddress: t, port: 0), let a = STUNAddress(sa) else { return nil }
        return a.unmappingIPv4.ip
    }

    static func sameFamily(_ a: STUNAddress.IP, _ b: STUNAddress.IP) -> Bool {
        switch (a, b) {
        case (.v4, .v4), (.v6, .v6): true
        default: false
        }
    }

    static func compare(_ a: STUNAddress.IP, _ b: STUNAddress.IP) -> Int {
        switch (a, b) {
        case (.v4(let x), .v4(let y)): x < y ? -1 : (x == y ? 0 : 1)
        case (.v6(let xh, let xl), .v6(let yh, let yl)): (xh, xl) < (yh, yl) ? -1 : ((xh, xl) == (yh, yl) ? 0 : 1)
        case (.v4, .v6): -1
        case (.v6, .v4): 1
        }
    }

    public func contains(_ ip: STUNAddress.IP) -> Bool {
        IPRange.sameFamily(low, ip) && IPRange.compare(low, ip) <= 0 && IPRange.compare(ip, high) <= 0
    }

    static func cidr4(_ a: UInt32, _ bits: Int) -> IPRange {
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
        return IPRange(low: .v4(a & mask), high: .v4((a & mask) | ~mask))
    }

    static func cidr6(_ h: UInt64, _ bits: Int) -> IPRange {
        let mask: UInt64 = ~UInt64(0) << UInt64(64 - bits)
        return IPRange(low: .v6(h & mask, 0), high: .v6((h & mask) | ~mask, ~0))
    }

    public var description: String {
        let lo = STUNAddress(ip: low, port: 0).ipString
        let hi = STUNAddress(ip: high, port: 0).ipString
        return lo == hi ? lo : "\(lo)-\(hi)"
    }
}

/// Decides which peers a client may relay to. Order: allowed list wins, then
/// the denied list, then loopback (only with allow-loopback-peers), then the
/// built-in deny list of private, link-local, multicast and metadata ranges.
public struct PeerPolicy: Sendable {
    public var allowed: [IPRange]
    public var denied: [IPRange]
    public var allowLoopback: Bool
    public var denyPrivate: Bool

    static let loopback: [IPRange] = [IPRange.cidr4(0x7F00_0000, 8), IPRange(low: .v6(0, 1), high: .v6(0, 1))]

    /// RFC 1918, CGNAT, link-local (cloud metadata 169.254.169.254 lives here),
    /// benchmarking, reserved, multicast, unspecified; IPv6 ULA (fd00:ec2::254
    /// is in fc00::/7), link-local, unspecified.
    static let builtInDeny: [IPRange] = [
        cidr4(0x0000_0000, 8), cidr4(0x0A00_0000, 8), cidr4(0x6440_0000, 10), cidr4(0xA9FE_0000, 16),
        cidr4(0xAC10_0000, 12), cidr4(0xC000_0000, 24), cidr4(0xC0A8_0000, 16), cidr4(0xC612_0000, 15),
        cidr4(0xE000_0000, 4), cidr4(0xF000_0000, 4),
        IPRange(low: .v6(0, 0), high: .v6(0, 0)),
        IPRange.cidr6(0xFC00_0000_0000_0000, 7), IPRange.cidr6(0xFE80_0000_0000_0000, 10),
        IPRange.cidr6(0xFF00_0000_0000_0000, 8),
    ]

    private static func cidr4(_ a: UInt32, _ bits: Int) -> IPRange { IPRange.cidr4(a, bits) }

    public init(allowed: [IPRange] = [], denied: [IPRange] = [], allowLoopback: Bool = false, denyPrivate: Bool = true) {
        self.allowed = allowed
        self.denied = denied
        self.allowLoopback = allowLoopback
        self.denyPrivate = denyPrivate
    }

    /// True for a loopback address (127/8, ::1, IPv4-mapped 127/8) or `localhost`:
    /// a listener there is reachable from this machine only.
    public static func isLoopback(host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        guard let ip = IPRange.parseIP(host) else { return false }
        let unmapped = STUNAddress(ip: ip, port: 0).unmappingIPv4.ip
        return loopback.contains { $0.contains(unmapped) }
    }

    public func permits(_ ip: STUNAddress.IP) -> Bool {
        let ip = STUNAddress(ip: ip, port: 0).unmappingIPv4.ip
        if allowed.contains(where: { $0.contains(ip) }) { return true }
        if denied.contains(where: { $0.contains(ip) }) { return false }
        if Self.loopback.contains(where: { $0.contains(ip) }) { return allowLoopback }
        if denyPrivate, Self.builtInDeny.contains(where: { $0.contains(ip) }) { return false }
        return true
    }
}
