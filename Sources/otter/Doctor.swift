import ArgumentParser

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check AWS credentials, region and endpoint by calling STS GetCallerIdentity."
    )
    func run() async throws {
        throw ValidationError("not yet")
    }
}
