import NIOCore

/// One message cut from a TCP/TLS byte stream.
public enum TURNFrame: Sendable {
    case stun(ByteBuffer)
    case channelData(channel: UInt16, payload: ByteBuffer)
}

public struct TURNFramingError: Error, Sendable, CustomStringConvertible {
    public var description: String { "stream is neither STUN nor ChannelData (first two bits are 1x); closing the connection" }
}

/// Splits a TURN byte stream into STUN messages and ChannelData frames by the
/// first two bits (00 STUN, 01 ChannelData). Lengths are 16-bit, so a frame
/// is never larger than 65,555 bytes: an attacker cannot make it buffer more.
public struct TURNStreamFramer: ByteToMessageDecoder {
    public typealias InboundOut = TURNFrame

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.nextFrame(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while let frame = try Self.nextFrame(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
        }
        return .needMoreData
    }

    /// A frame at the start of raw bytes: its total length on the stream
    /// (ChannelData with its padding) and, for ChannelData, number and payload length.
    public enum RawFrame: Equatable, Sendable {
        case stun(total: Int)
        case channelData(channel: UInt16, payloadLength: Int, total: Int)
    }

    /// The same framing on raw bytes (the UDP pump's buffer for the TCP
    /// clients it reads): nil while the frame is incomplete.
    @inline(__always)
    public static func nextFrame(in bytes: UnsafeRawBufferPointer) throws -> RawFrame? {
        guard bytes.count >= 4 else { return nil }
        let length = Int(bytes[2]) << 8 | Int(bytes[3])
        switch bytes[0] & 0xC0 {
        case 0x00:
            let total = STUNMessage.headerSize + length
            return bytes.count >= total ? .stun(total: total) : nil
        case 0x40:
            let total = ChannelData.streamFrameLength(payloadLength: length)
            guard bytes.count >= total else { return nil }
            return .channelData(channel: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), payloadLength: length, total: total)
        default:
            throw TURNFramingError()
        }
    }

    /// Pure framing step, separate from NIO so it can be tested directly.
    public static func nextFrame(_ buffer: inout ByteBuffer) throws -> TURNFrame? {
        let i = buffer.readerIndex
        guard buffer.readableBytes >= 4,
              let first = buffer.getInteger(at: i, as: UInt8.self),
              let length = buffer.getInteger(at: i + 2, as: UInt16.self) else { return nil }
        switch first & 0xC0 {
        case 0x00:
            let total = STUNMessage.headerSize + Int(length)
            guard buffer.readableBytes >= total else { return nil }
            return .stun(buffer.readSlice(length: total)!)
        case 0x40:
            let total = ChannelData.streamFrameLength(payloadLength: Int(length))
            guard buffer.readableBytes >= total else { return nil }
            let channel = buffer.getInteger(at: i, as: UInt16.self)!
            let payload = buffer.getSlice(at: i + 4, length: Int(length))!
            buffer.moveReaderIndex(forwardBy: total)
            return .channelData(channel: channel, payload: payload)
        default:
            throw TURNFramingError()
        }
    }
}
