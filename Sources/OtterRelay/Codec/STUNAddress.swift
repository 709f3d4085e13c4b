import NIOCore

/// An IP address and port as STUN carries them, independent of sockets so the
/// codec can be tested without NIO's socket types.
public struct STUNAddress: Hashable, Sendable, CustomStringConvertible {
    public enum IP: Hashable, Sendable {
        /// Host-order IPv4 address.
        case v4(UInt32)
        /// IPv6 address as two host-order halves.
        case v6(UInt64, UInt64)
    }

    public var ip: IP
    public var port: UInt16

    public init(ip: IP, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    public var family: UInt8 {
        if case .v4 = ip { return 1 }
        return 2
    }

    public init?(_ socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4(let a):
            self.init(ip: .v4(UInt32(bigEndian: a.address.sin_addr.s_addr)), port: UInt16(bigEndian: a.address.sin_port))
        case .v6(let a):
            var addr = a.address.sin6_addr
            let (hi, lo) = withUnsafeBytes(of: &addr) { raw -> (UInt64, UInt64) in
                var h: UInt64 = 0, l: UInt64 = 0
                for i in 0..<8 { h = h << 8 | UInt64(raw[i]) }
                for i in 8..<16 { l = l << 8 | UInt64(raw[i]) }
                return (h, l)
            }
            self.init(ip: .v6(hi, lo), port: UInt16(bigEndian: a.address.sin6_port))
        case .unixDomainSocket:
            return nil
        }
    }

    public func socketAddress() throws -> SocketAddress {
        var buf = ByteBufferAllocator().buffer(capacity: 16)
        writeIP(into: &buf)
        return try SocketAddress(packedIPAddress: buf, port: Int(port))
    }

    func writeIP(into buffer: inout ByteBuffer) {
        switch ip {
        case .v4(let a): buffer.writeInteger(a)
        case .v6(let h, let l): buffer.writeInteger(h); buffer.writeInteger(l)
        }
    }

    /// `::ffff:a.b.c.d` means an IPv4 host; policy checks must see it as one.
    public var unmappingIPv4: STUNAddress {
        if case .v6(let h, let l) = ip, h == 0, l >> 32 == 0xFFFF {
            return STUNAddress(ip: .v4(UInt32(truncatingIfNeeded: l)), port: port)
        }
        return self
    }

    public var ipString: String {
        switch ip {
        case .v4(let a):
            return "\(a >> 24).\((a >> 16) & 0xFF).\((a >> 8) & 0xFF).\(a & 0xFF)"
        case .v6(let h, let l):
            var groups: [String] = []
            for i in stride(from: 48, through: 0, by: -16) { groups.append(String((h >> UInt64(i)) & 0xFFFF, radix: 16)) }
            for i in stride(from: 48, through: 0, by: -16) { groups.append(String((l >> UInt64(i)) & 0xFFFF, radix: 16)) }
            return groups.joined(separator: ":")
        }
    }

    public var description: String {
        if case .v6 = ip { return "[\(ipString)]:\(port)" }
        return "\(ipString):\(port)"
    }
}
