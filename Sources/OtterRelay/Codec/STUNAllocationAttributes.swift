import NIOCore

// LIFETIME, CHANNEL-NUMBER, REQUESTED-TRANSPORT, REQUESTED-ADDRESS-FAMILY,
// EVEN-PORT and RESERVATION-TOKEN (RFC 8656 §18): the Allocate/Refresh/
// ChannelBind parameters. Their writers are the generic 32-bit and byte
// appends in STUNMessageBuilder.
extension STUNMessage {
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
}
