import NIOCore

/// Writes a STUN message attribute by attribute, keeping the header length
/// current so integrity and fingerprint can be appended at the end. Generic
/// value shapes are here; each attribute family's writer sits beside its reader.
public struct STUNMessageBuilder {
    public internal(set) var buffer: ByteBuffer
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

    mutating func updateLength() {
        buffer.setInteger(UInt16(buffer.writerIndex - buffer.readerIndex - 20), at: buffer.readerIndex + 2)
    }

    mutating func pad(_ n: Int) {
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

    public func finish() -> ByteBuffer { buffer }
}
