import NIOCore

/// Readers for the generic value shapes (text, 32-bit). Each attribute family's
/// typed reader sits beside its writer in its own file (STUNAddressAttributes,
/// STUNErrorAttributes, STUNAllocationAttributes, STUNIntegrity). Readers return
/// nil for a value of the wrong size instead of guessing, so a malformed
/// attribute becomes a 400.
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
}
