/// A container image reference in a private ECR registry
/// (`<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag|@digest]`).
/// The relay's execution role may pull from exactly that repository; images
/// from public registries (coturn/coturn on Docker Hub) need no grant.
public struct EcrImage: Sendable, Equatable {
    public let account: String
    public let region: String
    public let repository: String

    public init?(_ reference: String) {
        guard let slash = reference.firstIndex(of: "/") else { return nil }
        let host = reference[..<slash].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        // account . dkr . ecr . region . amazonaws . com [. cn]
        guard host.count >= 6, host[1] == "dkr", host[2] == "ecr", host[4] == "amazonaws",
              host[0].count == 12, host[0].allSatisfy(\.isNumber) else { return nil }
        var repository = String(reference[reference.index(after: slash)...])
        if let at = repository.firstIndex(of: "@") { repository = String(repository[..<at]) }
        if let colon = repository.lastIndex(of: ":") { repository = String(repository[..<colon]) }
        guard !repository.isEmpty else { return nil }
        account = host[0]
        region = host[3]
        self.repository = repository
    }

    /// The repository ARN (the partition follows the stack's).
    public var arn: CFString {
        "arn:\(Pseudo.partition):ecr:\(region):\(account):repository/\(repository)"
    }
}
