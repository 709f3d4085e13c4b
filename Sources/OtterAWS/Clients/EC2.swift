import Foundation

/// EC2: the one lookup the relay needs to learn its public address.
public struct EC2: Sendable {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    /// The public IPv4 address mapped to the network interface that holds
    /// `privateIP`, or nil when it has none.
    public func publicIP(ofInterfaceWithPrivateIP privateIP: String) async throws -> String? {
        let xml = try await client.query(.ec2, action: "DescribeNetworkInterfaces", [
            ("Filter.1.Name", "addresses.private-ip-address"), ("Filter.1.Value.1", privateIP),
        ])
        for item in xml["networkInterfaceSet"]?.all("item") ?? [] {
            if let ip = item["association"]?.string("publicIp"), !ip.isEmpty { return ip }
        }
        return nil
    }
}
