import NIOCore

/// Typed readers for attribute values. Each returns nil for a value of the
/// wrong size instead of guessing, so a malformed attribute becomes a 400.
extension STUNMessage {
    /// Text attributes are bounded by RFC 8489 (USERNAME < 513 bytes, REALM
    /// and NONCE < 763); anything longer is treated as malformed.
    public func string(_ type: STUNAttributeType, maxBytes: Int = 763) -> String? {
        guard let a = attribute(type), a.value.readableBytes <= maxBytes else { return nil }
        return a.value.getString(at: a.value.readerIndex, length: a.value.readableBytes)
    }

    public func uint32(_ type: STUNAttributeType) -> UInt32? {
        guard let a = attribute(type), a.value.readableBytes == 4 else { return nil }
        return a.value.getInteger(at: a.value.readerIndex, as: UInt32.self)
    }

    public var lifetime: UInt32? { uint32(.lifetime) }

    /// CHANNEL-NUMBER: 16-bit number then 16 reserved bits.
    public var channelNumber: UInt16? {
        guard let v = uint32(.channelNumber) else { return nil }
        return UInt16(v >> 16)
    }

    /// REQUESTED-TRANSPORT: protocol number then 24 reserved bits.
    public var requestedTransport: UInt8? {
        guard let v = uint32(.requestedTransport) else { return nil }
        return UInt8(v >> 24)
    }

    public var requestedAddressFamily: UInt8? {
        guard let v = uint32(.requestedAddressFamily) else { return nil }
        return UInt8(v >> 24)
    }

    /// EVEN-PORT: nil when absent, otherwise whether the R bit asks to reserve
    /// the next port. A value of the wrong length yields `.malformed`.
    public enum EvenPort: Equatable, Sendable { case absent, malformed, even(reserveNext: Bool) }
    public var evenPort: EvenPort {
        guard let a = attribute(.evenPort) else { return .absent }
        guard a.value.readableBytes == 1, let b = a.value.getInteger(at: a.value.readerIndex, as: UInt8.self) else { return .malformed }
        return .even(reserveNext: b & 0x80 != 0)
    }

    public var reservationToken: UInt64? {
        guard let a = attribute(.reservationToken), a.value.readableBytes == 8 else { return nil }
        return a.value.getInteger(at: a.value.readerIndex, as: UInt64.self)
    }

    public var errorCode: (code: UInt16, reason: String)? {
        guard let a = attribute(.errorCode), a.value.readableBytes >= 4, a.value.readableBytes <= 4 + 763 else { return nil }
        let v = a.value
        let cls = v.getInteger(at: v.readerIndex + 2, as: UInt8.self)! & 0x07
        let num = v.getInteger(at: v.readerIndex + 3, as: UInt8.self)!
        let reason = v.getString(at: v.readerIndex + 4, length: v.readableBytes - 4) ?? ""
        return (UInt16(cls) * 100 + UInt16(num), reason)
    }

    public func address(_ type: STUNAttributeType) -> STUNAddress? {
        guard let a = attribute(type) else { return nil }
        return Self.decodeAddress(a.value, xorWith: nil)
    }

    public func xorAddress(_ type: STUNAttributeType) -> STUNAddress? {
        guard let a = attribute(type) else { return nil }
        return Self.decodeAddress(a.value, xorWith: transactionID)
    }

    /// All XOR-PEER-ADDRESS values; nil if any of them is malformed.
    public func xorAddresses(_ type: STUNAttributeType) -> [STUNAddress]? {
        var out: [STUNAddress] = []
        for a in attributes where a.type == type {
            guard let addr = Self.decodeAddress(a.value, xorWith: transactionID) else { return nil }
            out.append(addr)
        }
        return out
    }

    static func decodeAddress(_ v: ByteBuffer, xorWith tid: TransactionID?) -> STUNAddress? {
        let i = v.readerIndex
        guard v.readableBytes >= 4, let family = v.getInteger(at: i + 1, as: UInt8.self),
              var port = v.getInteger(at: i + 2, as: UInt16.self) else { return nil }
        if tid != nil { port ^= UInt16(stunMagicCookie >> 16) }
        switch family {
        case 1:
            guard v.readableBytes == 8, var ip = v.getInteger(at: i + 4, as: UInt32.self) else { return nil }
            if tid != nil { ip ^= stunMagicCookie }
            return STUNAddress(ip: .v4(ip), port: port)
        case 2:
            guard v.readableBytes == 20, var h = v.getInteger(at: i + 4, as: UInt64.self),
                  var l = v.getInteger(at: i + 12, as: UInt64.self) else { return nil }
            if let t = tid {
                h ^= UInt64(stunMagicCookie) << 32 | UInt64(t.a)
                l ^= UInt64(t.b) << 32 | UInt64(t.c)
            }
            return STUNAddress(ip: .v6(h, l), port: port)
        default:
            return nil
        }
    }

    /// Comprehension-required attributes that are not in `known` (for 420).
    public func unknownRequiredAttributes(known: Set<UInt16>) -> [UInt16] {
        var out: [UInt16] = []
        for a in attributes where a.type.isComprehensionRequired && !known.contains(a.type.rawValue) {
            if !out.contains(a.type.rawValue) { out.append(a.type.rawValue) }
        }
        return out
    }
}
