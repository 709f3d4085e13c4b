import NIOCore

/// One attribute: its type and a zero-copy view of its value.
public struct STUNAttribute: Sendable {
    public var type: STUNAttributeType
    public var value: ByteBuffer
    /// Offset of the attribute header from the start of the message; the
    /// integrity checks hash everything before it.
    public var offset: Int
}

public struct STUNParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case tooShort, notSTUN, badMagicCookie, lengthMismatch, badAttributeLength, tooManyAttributes, badFingerprint
    }
    public var code: Code
    public var message: String
    init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}

/// A decoded STUN message. Attribute values are slices of the original buffer,
/// which is kept so MESSAGE-INTEGRITY and FINGERPRINT can be checked.
public struct STUNMessage: Sendable {
    public static let headerSize = 20
    /// More attributes than any real client sends; a bound so hostile input
    /// cannot make us build a huge array.
    public static let maxAttributes = 64

    public var method: UInt16
    public var messageClass: STUNClass
    public var transactionID: TransactionID
    public var attributes: [STUNAttribute]
    /// The whole message as received (header included).
    public var raw: ByteBuffer

    /// Index of MESSAGE-INTEGRITY / -SHA256 / FINGERPRINT in `attributes`, if present.
    public var integrityIndex: Int?
    public var integritySHA256Index: Int?
    public var fingerprintIndex: Int?

    public var knownMethod: STUNMethod? { STUNMethod(rawValue: method) }

    /// Whether the bytes could be a STUN message (first two bits zero, cookie).
    @inline(__always)
    public static func looksLikeSTUN(_ buffer: ByteBuffer) -> Bool {
        guard buffer.readableBytes >= headerSize,
              let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let cookie = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self) else { return false }
        return first & 0xC0 == 0 && cookie == stunMagicCookie
    }

    /// Parses exactly one message occupying all readable bytes of `buffer`.
    /// Never traps and never reads outside the buffer: every length is checked
    /// against what is actually there before it is used.
    public init(parsing buffer: ByteBuffer) throws(STUNParseError) {
        let base = buffer.readerIndex
        let total = buffer.readableBytes
        guard total >= Self.headerSize else { throw STUNParseError(.tooShort, "message shorter than the 20-byte STUN header") }
        let type = buffer.getInteger(at: base, as: UInt16.self)!
        let length = Int(buffer.getInteger(at: base + 2, as: UInt16.self)!)
        let cookie = buffer.getInteger(at: base + 4, as: UInt32.self)!
        guard type & 0xC000 == 0 else { throw STUNParseError(.notSTUN, "first two bits are not zero") }
        guard cookie == stunMagicCookie else { throw STUNParseError(.badMagicCookie, "magic cookie missing (RFC 3489 clients are not supported)") }
        guard length % 4 == 0, length + Self.headerSize == total else {
            throw STUNParseError(.lengthMismatch, "header length \(length) does not match \(total - Self.headerSize) bytes of attributes")
        }
        let (m, c) = stunSplitMessageType(type)
        method = m
        messageClass = c
        transactionID = TransactionID(
            a: buffer.getInteger(at: base + 8, as: UInt32.self)!,
            b: buffer.getInteger(at: base + 12, as: UInt32.self)!,
            c: buffer.getInteger(at: base + 16, as: UInt32.self)!)
        raw = buffer.getSlice(at: base, length: total)!
        attributes = []
        integrityIndex = nil
        integritySHA256Index = nil
        fingerprintIndex = nil

        var offset = Self.headerSize
        while offset < total {
            guard total - offset >= 4 else { throw STUNParseError(.badAttributeLength, "truncated attribute header") }
            let atype = raw.getInteger(at: offset, as: UInt16.self)!
            let alen = Int(raw.getInteger(at: offset + 2, as: UInt16.self)!)
            let padded = (alen + 3) & ~3
            guard padded <= total - offset - 4 else {
                throw STUNParseError(.badAttributeLength, "attribute 0x\(String(atype, radix: 16)) claims \(alen) bytes, only \(total - offset - 4) left")
            }
            guard attributes.count < Self.maxAttributes else { throw STUNParseError(.tooManyAttributes, "more than \(Self.maxAttributes) attributes") }
            let t = STUNAttributeType(atype)
            if fingerprintIndex != nil {
                // Nothing may follow FINGERPRINT.
                throw STUNParseError(.badFingerprint, "attribute after FINGERPRINT")
            }
            // After MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count (RFC 8489 §14.5).
            let afterIntegrity = integrityIndex != nil || integritySHA256Index != nil
            if !afterIntegrity || t == .fingerprint || (t == .messageIntegritySHA256 && integritySHA256Index == nil) {
                let attr = STUNAttribute(type: t, value: raw.getSlice(at: offset + 4, length: alen)!, offset: offset)
                switch t {
                case .messageIntegrity where integrityIndex == nil && !afterIntegrity: integrityIndex = attributes.count
                case .messageIntegritySHA256: integritySHA256Index = attributes.count
                case .fingerprint: fingerprintIndex = attributes.count
                default: break
                }
                attributes.append(attr)
            }
            offset += 4 + padded
        }
        if let fi = fingerprintIndex {
            let attr = attributes[fi]
            guard attr.value.readableBytes == 4, attr.offset + 8 == total else {
                throw STUNParseError(.badFingerprint, "FINGERPRINT malformed or not last")
            }
            let expected = attr.value.getInteger(at: attr.value.readerIndex, as: UInt32.self)!
            if STUNIntegrity.fingerprint(of: raw, upTo: attr.offset) != expected {
                throw STUNParseError(.badFingerprint, "FINGERPRINT does not match")
            }
        }
    }

    public func attribute(_ type: STUNAttributeType) -> STUNAttribute? {
        for a in attributes where a.type == type { return a }
        return nil
    }

    public func attributes(_ type: STUNAttributeType) -> [STUNAttribute] {
        attributes.filter { $0.type == type }
    }

    public func has(_ type: STUNAttributeType) -> Bool { attribute(type) != nil }
}
