import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// MESSAGE-INTEGRITY (HMAC-SHA1), MESSAGE-INTEGRITY-SHA256 and FINGERPRINT over
/// raw message bytes, with the header length patched the way RFC 8489 §14.5
/// requires (as if the message ended right after the attribute being checked).
public enum STUNIntegrity {
    static let fingerprintXOR: UInt32 = 0x5354_554E

    /// The long-term credential key: MD5(username ":" realm ":" password).
    public static func longTermKey(username: String, realm: String, password: String) -> [UInt8] {
        Array(Insecure.MD5.hash(data: Data("\(username):\(realm):\(password)".utf8)))
    }

    static func fingerprint(of raw: ByteBuffer, upTo offset: Int) -> UInt32 {
        raw.withUnsafeReadableBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<offset])) } ^ fingerprintXOR
    }

    /// HMAC over the bytes before the attribute at `offset`, with the header
    /// length set to end `valueLength` bytes after that attribute's header.
    static func mac<H: HashFunction>(_: H.Type, raw: ByteBuffer, attributeOffset offset: Int, valueLength: Int, key: [UInt8]) -> [UInt8] {
        var hmac = HMAC<H>(key: SymmetricKey(data: key))
        raw.withUnsafeReadableBytes { bytes in
            var header = [UInt8](bytes[0..<20])
            let adjusted = offset + 4 + valueLength - 20
            header[2] = UInt8(adjusted >> 8)
            header[3] = UInt8(adjusted & 0xFF)
            hmac.update(data: header)
            hmac.update(data: UnsafeRawBufferPointer(rebasing: bytes[20..<offset]))
        }
        return Array(hmac.finalize())
    }

    /// Which integrity attribute a request carried and whether it matched.
    public enum Check: Equatable, Sendable { case absent, valid(sha256: Bool), invalid }

    /// Checks MESSAGE-INTEGRITY-SHA256 when present (the stronger one the client
    /// chose), else MESSAGE-INTEGRITY.
    public static func check(_ message: STUNMessage, key: [UInt8]) -> Check {
        if let i = message.integritySHA256Index {
            let a = message.attributes[i]
            let n = a.value.readableBytes
            guard n >= 16, n <= 32, n % 4 == 0, let got = a.value.getBytes(at: a.value.readerIndex, length: n) else { return .invalid }
            let full = mac(SHA256.self, raw: message.raw, attributeOffset: a.offset, valueLength: n, key: key)
            return constantTimeEqual(Array(full[0..<n]), got) ? .valid(sha256: true) : .invalid
        }
        if let i = message.integrityIndex {
            let a = message.attributes[i]
            guard a.value.readableBytes == 20, let got = a.value.getBytes(at: a.value.readerIndex, length: 20) else { return .invalid }
            let want = mac(Insecure.SHA1.self, raw: message.raw, attributeOffset: a.offset, valueLength: 20, key: key)
            return constantTimeEqual(want, got) ? .valid(sha256: false) : .invalid
        }
        return .absent
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

// The writers for MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT,
// beside the checks above.
extension STUNMessageBuilder {
    public mutating func appendMessageIntegrity(key: [UInt8]) {
        let offset = buffer.readableBytes
        buffer.writeInteger(STUNAttributeType.messageIntegrity.rawValue)
        buffer.writeInteger(UInt16(20))
        let mac = STUNIntegrity.mac(Insecure.SHA1.self, raw: buffer, attributeOffset: offset, valueLength: 20, key: key)
        buffer.writeBytes(mac)
        updateLength()
    }

    public mutating func appendMessageIntegritySHA256(key: [UInt8]) {
        let offset = buffer.readableBytes
        buffer.writeInteger(STUNAttributeType.messageIntegritySHA256.rawValue)
        buffer.writeInteger(UInt16(32))
        let mac = STUNIntegrity.mac(SHA256.self, raw: buffer, attributeOffset: offset, valueLength: 32, key: key)
        buffer.writeBytes(mac)
        updateLength()
    }

    public mutating func appendFingerprint() {
        let offset = buffer.readableBytes
        buffer.setInteger(UInt16(offset + 8 - 20), at: buffer.readerIndex + 2)
        let crc = STUNIntegrity.fingerprint(of: buffer, upTo: offset)
        buffer.writeInteger(STUNAttributeType.fingerprint.rawValue)
        buffer.writeInteger(UInt16(4))
        buffer.writeInteger(crc)
    }
}
