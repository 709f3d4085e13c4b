import NIOCore

/// ERROR-CODE values the relay sends (RFC 8489 §14.8, RFC 8656 §18).
public struct STUNErrorCode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let tryAlternate = Self(rawValue: 300)
    public static let badRequest = Self(rawValue: 400)
    public static let unauthorized = Self(rawValue: 401)
    public static let forbidden = Self(rawValue: 403)
    public static let unknownAttribute = Self(rawValue: 420)
    public static let allocationMismatch = Self(rawValue: 437)
    public static let staleNonce = Self(rawValue: 438)
    public static let addressFamilyNotSupported = Self(rawValue: 440)
    public static let wrongCredentials = Self(rawValue: 441)
    public static let unsupportedTransport = Self(rawValue: 442)
    public static let peerAddressFamilyMismatch = Self(rawValue: 443)
    public static let allocationQuotaReached = Self(rawValue: 486)
    public static let serverError = Self(rawValue: 500)
    public static let insufficientCapacity = Self(rawValue: 508)

    public var defaultReason: String {
        switch rawValue {
        case 300: "Try Alternate"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 420: "Unknown Attribute"
        case 437: "Allocation Mismatch"
        case 438: "Stale Nonce"
        case 440: "Address Family not Supported"
        case 441: "Wrong Credentials"
        case 442: "Unsupported Transport Protocol"
        case 443: "Peer Address Family Mismatch"
        case 486: "Allocation Quota Reached"
        case 500: "Server Error"
        case 508: "Insufficient Capacity"
        default: "Error"
        }
    }
}

// ERROR-CODE and UNKNOWN-ATTRIBUTES (RFC 8489 §14.8, §14.9).
extension STUNMessage {
    public var errorCode: (code: UInt16, reason: String)? {
        guard let a = attribute(.errorCode), a.value.readableBytes >= 4, a.value.readableBytes <= 4 + 763 else { return nil }
        let v = a.value
        let cls = v.getInteger(at: v.readerIndex + 2, as: UInt8.self)! & 0x07
        let num = v.getInteger(at: v.readerIndex + 3, as: UInt8.self)!
        let reason = v.getString(at: v.readerIndex + 4, length: v.readableBytes - 4) ?? ""
        return (UInt16(cls) * 100 + UInt16(num), reason)
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

extension STUNMessageBuilder {
    public mutating func appendErrorCode(_ code: STUNErrorCode, reason: String? = nil) {
        let text = Array((reason ?? code.defaultReason).utf8.prefix(763))
        buffer.writeInteger(STUNAttributeType.errorCode.rawValue)
        buffer.writeInteger(UInt16(4 + text.count))
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(UInt8(code.rawValue / 100))
        buffer.writeInteger(UInt8(code.rawValue % 100))
        buffer.writeBytes(text)
        pad(text.count)
        updateLength()
    }

    public mutating func appendUnknownAttributes(_ types: [UInt16]) {
        buffer.writeInteger(STUNAttributeType.unknownAttributes.rawValue)
        buffer.writeInteger(UInt16(types.count * 2))
        for t in types { buffer.writeInteger(t) }
        pad(types.count * 2)
        updateLength()
    }
}
