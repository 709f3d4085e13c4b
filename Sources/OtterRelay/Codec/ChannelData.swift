import NIOCore

/// ChannelData framing (RFC 8656 §12.4): 2-byte channel number, 2-byte
/// length, payload; over TCP/TLS the frame is padded to a multiple of 4.
public enum ChannelData {
    public static let headerSize = 4
    /// RFC 8656 narrowed the range to 0x4000-0x4FFF, but RFC 5766 clients
    /// (turnutils_uclient among them) pick up to 0x7FFF and coturn accepts them.
    public static let validChannels: ClosedRange<UInt16> = 0x4000...0x7FFF

    /// The first two bits of a ChannelData message are 01.
    @inline(__always)
    public static func isChannelData(firstByte: UInt8) -> Bool { firstByte & 0xC0 == 0x40 }

    /// Splits a datagram into channel number and payload. UDP may carry
    /// trailing padding (allowed), but never less than the stated length.
    @inline(__always)
    public static func parse(_ buffer: ByteBuffer) -> (channel: UInt16, payload: ByteBuffer)? {
        let i = buffer.readerIndex
        guard buffer.readableBytes >= headerSize,
              let channel = buffer.getInteger(at: i, as: UInt16.self),
              let length = buffer.getInteger(at: i + 2, as: UInt16.self),
              channel & 0xC000 == 0x4000,
              Int(length) <= buffer.readableBytes - headerSize,
              let payload = buffer.getSlice(at: i + headerSize, length: Int(length)) else { return nil }
        return (channel, payload)
    }

    /// The same checks on raw datagram bytes (the UDP pump's receive slots):
    /// channel number and payload length, or nil.
    @inline(__always)
    public static func parseHeader(_ bytes: UnsafeRawBufferPointer) -> (channel: UInt16, length: Int)? {
        guard bytes.count >= headerSize else { return nil }
        let channel = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let length = Int(bytes[2]) << 8 | Int(bytes[3])
        guard channel & 0xC000 == 0x4000, length <= bytes.count - headerSize else { return nil }
        return (channel, length)
    }

    /// Frame length on a stream transport: header plus payload rounded up to 4.
    @inline(__always)
    public static func streamFrameLength(payloadLength: Int) -> Int {
        headerSize + ((payloadLength + 3) & ~3)
    }

    /// Writes a frame; `padded` is true for TCP/TLS.
    @inline(__always)
    public static func write(channel: UInt16, payload: ByteBuffer, padded: Bool, into out: inout ByteBuffer) {
        var p = payload
        let n = p.readableBytes
        out.writeInteger(channel)
        out.writeInteger(UInt16(n))
        out.writeBuffer(&p)
        if padded {
            let pad = (4 - n % 4) % 4
            if pad > 0 { out.writeRepeatingByte(0, count: pad) }
        }
    }
}
