/// What `otter template` (and `otter deploy`) can vary. Everything else in the
/// stack is fixed, so every variant is one that the tests lint.
public struct OtterStackOptions: Sendable, Equatable {
    /// Stack name: the `otter:stack` tag value and the prefix of names that must be unique.
    public var stackName: String
    /// Default `maxPeers` of a new room (2…4, DESIGN.md).
    public var maxPeers: Int
    /// The relay container image (coturn's official image, or an `otter relay` image with the same flags).
    public var relayImage: String
    public var relayMinTasks: Int
    public var relayMaxTasks: Int

    public static let defaultRelayImage = "coturn/coturn"
    /// Fargate tasks per service; kept small because each task is a public IP and a bill.
    public static let relayTaskLimit = 20

    public init(stackName: String = "otter", maxPeers: Int = 2, relayImage: String = OtterStackOptions.defaultRelayImage,
                relayMinTasks: Int = 1, relayMaxTasks: Int = 4) {
        self.stackName = stackName
        self.maxPeers = maxPeers
        self.relayImage = relayImage
        self.relayMinTasks = relayMinTasks
        self.relayMaxTasks = relayMaxTasks
    }

    /// Checks the options; the messages name the option and the accepted values.
    public func validate() throws(OptionsError) {
        let first = stackName.unicodeScalars.first
        guard let first, stackName.count <= 128, ("a"..."z").contains(first) || ("A"..."Z").contains(first),
              stackName.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") })
        else {
            throw OptionsError("--stack must start with a letter and contain only letters, digits and '-' (at most 128 characters); got '\(stackName)'")
        }
        guard (2...4).contains(maxPeers) else {
            throw OptionsError("--max-peers must be 2, 3 or 4 (a mesh call beyond 4 peers does not hold up); got \(maxPeers)")
        }
        guard !relayImage.isEmpty, relayImage.count <= 255,
              relayImage.unicodeScalars.allSatisfy({ $0.isASCII && !$0.properties.isWhitespace && $0.value > 0x20 })
        else {
            throw OptionsError("--relay-image must be an image reference such as coturn/coturn or 123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter-relay:1.0 (no spaces); got '\(relayImage)'")
        }
        guard (1...Self.relayTaskLimit).contains(relayMinTasks) else {
            throw OptionsError("--relay-min must be from 1 to \(Self.relayTaskLimit); got \(relayMinTasks)")
        }
        guard (1...Self.relayTaskLimit).contains(relayMaxTasks) else {
            throw OptionsError("--relay-max must be from 1 to \(Self.relayTaskLimit); got \(relayMaxTasks)")
        }
        guard relayMinTasks <= relayMaxTasks else {
            throw OptionsError("--relay-min (\(relayMinTasks)) must not be above --relay-max (\(relayMaxTasks))")
        }
    }
}

public struct OptionsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
