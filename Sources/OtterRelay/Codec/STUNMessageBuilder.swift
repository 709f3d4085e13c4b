import Crypto
import NIOCore

/// Writes a STUN message attribute by attribute, keeping the header length
/// current so integrity and fingerprint can be appended at the end.
public struct STUNMessageBuilder {
    public private(set) var buffer: ByteBuffer
    public let transactionID: TransactionID

    public init(method: UInt16, messageClass: STUNClass, transactionID: TransactionID, capacity: Int = 128) {
        self.init(method: method, messageClass: messageClass, transactionID: transactionID,
                  buffer: ByteBufferAllocator().buffer(capacity: capacity))
    }

    public init(method: STUNMethod, messageClass: STUNClass, transactionID: TransactionID, capacity: Int = 128) {
        self.init(method: method.rawValue, messageClass: messageClass, transactionID: transactionID, capacity: capacity)
    }

    /// Builds into a buffer the caller supplies (e.g. from a channel's allocator).
    public init(method: UInt16, messageClass: STUNClass, transactionID: TransactionID, buffer: ByteBuffer) {
        self.transactionID = transactionID
        var b = buffer
        b.clear()
        b.writeInteger(stunMessageType(method: method, messageClass: messageClass))
        b.writeInteger(UInt16(0))
        b.writeInteger(stunMagicCookie)
        b.writeInteger(transactionID.a)
        b.writeInteger(transactionID.b)
        b.writeInteger(transactionID.c)
        self.buffer = b
    }

    private mutating func updateLength() {
        buffer.setInteger(UInt16(buffer.writerIndex - buffer.readerIndex - 20), at: buffer.readerIndex + 2)
    }

    private mutating func pad(_ n: Int) {
        let p = (4 - n % 4) % 4
        if p > 0 { buffer.writeRepeatingByte(0, count: p) }
    }

    public mutating func append<C: Collection>(_ type: STUNAttributeType, bytes: C) where C.Element == UInt8 {
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(bytes.count))
        buffer.writeBytes(bytes)
        pad(bytes.count)
        updateLength()
    }

    public mutating func append(_ type: STUNAttributeType, buffer value: ByteBuffer) {
        var v = value
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(v.readableBytes))
        let n = v.readableBytes
        buffer.writeBuffer(&v)
        pad(n)
        updateLength()
    }

    public mutating func append(_ type: STUNAttributeType, string: String) {
        append(type, bytes: Array(string.utf8))
    }

    public mutating func append(_ type: STUNAttributeType, uint32: UInt32) {
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(4))
        buffer.writeInteger(uint32)
        updateLength()
    }

    public mutating func appendEmpty(_ type: STUNAttributeType) {
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(0))
        updateLength()
    }

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

    public func finish() -> ByteBuffer { buffer }
}
