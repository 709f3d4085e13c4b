/// STUN/TURN method numbers (RFC 8489, RFC 8656).
public enum STUNMethod: UInt16, Sendable {
    case binding = 0x001
    case allocate = 0x003
    case refresh = 0x004
    case send = 0x006
    case data = 0x007
    case createPermission = 0x008
    case channelBind = 0x009
}

public enum STUNClass: UInt8, Sendable {
    case request = 0
    case indication = 1
    case successResponse = 2
    case errorResponse = 3
}

/// The 14-bit message type interleaves method and class bits (RFC 8489 §5).
@inline(__always)
func stunMessageType(method: UInt16, messageClass: STUNClass) -> UInt16 {
    let m = method & 0x0FFF
    let c = UInt16(messageClass.rawValue)
    return (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
}

@inline(__always)
func stunSplitMessageType(_ type: UInt16) -> (method: UInt16, messageClass: STUNClass) {
    let method = (type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2)
    let c = ((type >> 4) & 1) | ((type >> 7) & 2)
    return (method, STUNClass(rawValue: UInt8(c))!)
}

public let stunMagicCookie: UInt32 = 0x2112_A442

/// Attribute type numbers. A plain struct rather than an enum: unknown numbers
/// must round-trip so they can be reported in UNKNOWN-ATTRIBUTES.
public struct STUNAttributeType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// Types below 0x8000 must be understood or the request is refused (420).
    public var isComprehensionRequired: Bool { rawValue < 0x8000 }

    public static let mappedAddress = Self(0x0001)
    public static let changeRequest = Self(0x0003)
    public static let username = Self(0x0006)
    public static let messageIntegrity = Self(0x0008)
    public static let errorCode = Self(0x0009)
    public static let unknownAttributes = Self(0x000A)
    public static let channelNumber = Self(0x000C)
    public static let lifetime = Self(0x000D)
    public static let xorPeerAddress = Self(0x0012)
    public static let data = Self(0x0013)
    public static let realm = Self(0x0014)
    public static let nonce = Self(0x0015)
    public static let xorRelayedAddress = Self(0x0016)
    public static let requestedAddressFamily = Self(0x0017)
    public static let evenPort = Self(0x0018)
    public static let requestedTransport = Self(0x0019)
    public static let dontFragment = Self(0x001A)
    public static let messageIntegritySHA256 = Self(0x001C)
    public static let passwordAlgorithm = Self(0x001D)
    public static let userhash = Self(0x001E)
    public static let xorMappedAddress = Self(0x0020)
    public static let reservationToken = Self(0x0022)
    public static let priority = Self(0x0024)
    public static let useCandidate = Self(0x0025)
    public static let padding = Self(0x0026)
    public static let responsePort = Self(0x0027)
    public static let additionalAddressFamily = Self(0x8000)
    public static let passwordAlgorithms = Self(0x8002)
    public static let software = Self(0x8022)
    public static let alternateServer = Self(0x8023)
    public static let fingerprint = Self(0x8028)
    public static let iceControlled = Self(0x8029)
    public static let iceControlling = Self(0x802A)
    public static let responseOrigin = Self(0x802B)
    public static let otherAddress = Self(0x802C)

    /// The comprehension-required attributes the relay understands; any other
    /// type below 0x8000 in a request gets 420 with UNKNOWN-ATTRIBUTES. USERHASH
    /// is left out on purpose: the relay does not implement it.
    public static let understoodComprehensionRequired: [Self] = [
        .mappedAddress, .changeRequest, .username, .messageIntegrity, .errorCode, .unknownAttributes,
        .channelNumber, .lifetime, .xorPeerAddress, .data, .realm, .nonce, .xorRelayedAddress,
        .requestedAddressFamily, .evenPort, .requestedTransport, .dontFragment, .messageIntegritySHA256,
        .passwordAlgorithm, .xorMappedAddress, .reservationToken, .priority, .useCandidate, .padding,
        .responsePort,
    ]
}
