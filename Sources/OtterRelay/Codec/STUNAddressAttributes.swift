import NIOCore

// MAPPED-ADDRESS, XOR-MAPPED-ADDRESS, XOR-RELAYED-ADDRESS, XOR-PEER-ADDRESS
// (RFC 8489 §14.1-14.2, RFC 8656 §18.3, §18.5): reader and writer together so
// the XOR rules live in one place.
extension STUNMessage {
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
}

extension STUNMessageBuilder {
    public mutating func append(_ type: STUNAttributeType, address: STUNAddress, xor: Bool) {
        buffer.writeInteger(type.rawValue)
        let isV4: Bool
        if case .v4 = address.ip { isV4 = true } else { isV4 = false }
        buffer.writeInteger(UInt16(isV4 ? 8 : 20))
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(address.family)
        buffer.writeInteger(xor ? address.port ^ UInt16(stunMagicCookie >> 16) : address.port)
        switch address.ip {
        case .v4(let ip):
            buffer.writeInteger(xor ? ip ^ stunMagicCookie : ip)
        case .v6(var h, var l):
            if xor {
                h ^= UInt64(stunMagicCookie) << 32 | UInt64(transactionID.a)
                l ^= UInt64(transactionID.b) << 32 | UInt64(transactionID.c)
            }
            buffer.writeInteger(h)
            buffer.writeInteger(l)
        }
        updateLength()
    }
}
