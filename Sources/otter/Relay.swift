import ArgumentParser
import Foundation
import Logging
import OtterRelay

/// `otter relay`: the TURN/STUN server alone, with coturn's flags and
/// turnserver.conf. Arguments are passed through verbatim and parsed by
/// OtterRelay's coturn-compatible parser, so flags and the file share one grammar.
struct Relay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the TURN/STUN relay (coturn-compatible flags and turnserver.conf).",
        discussion: """
        Examples:
          otter relay -c /etc/turnserver.conf
          otter relay --use-auth-secret --static-auth-secret=SECRET \\
            --realm=example.com --listening-ip=127.0.0.1 \\
            --min-port=49152 --max-port=65535 --no-tls --no-dtls --no-cli

        Options coturn has that otter relay does not implement are refused by name.

        Without a shell (the relay image has none), two things come from the task itself:
          --external-ip=auto: the ECS task's public IPv4 address, from the task
            metadata endpoint (ECS_CONTAINER_METADATA_URI_V4) and EC2
            DescribeNetworkInterfaces with the task role (as detect-external-ip).
          TURN_SECRET: when set in the environment, one more static-auth-secret,
            so the secret never appears in the command line.

        Quotas, coturn's options (0 means no limit, coturn's default for all):
          --user-quota=N: allocations per user at once. Default \(RelayConfiguration.defaultUserQuota).
          --total-quota=N: allocations in all at once. Default \(RelayConfiguration.defaultTotalQuota).
          --max-bps=N: bytes/s per allocation and direction. Default 0.
          --bps-capacity=N: bytes/s all allocations share. Needs --max-bps.
        With --use-auth-secret the user is the username without its
        timestamp: all of a room's credentials count together. A full
        4-peer room in Chromium takes up to 96 allocations (4 browsers x 3
        connections x 4 TURN URLs x 2 networks). Over a quota, Allocate gets
        486 Allocation Quota Reached; over max-bps, datagrams are dropped.

        Threads: --relay-threads=N (coturn's -m) runs N pump threads, each
        with its own UDP socket on the listening port (SO_REUSEPORT) and its
        own clients. Default 1, the least CPU per datagram; more may carry
        more near one core's ceiling (measure on your machine first).
        """
    )

    @Argument(parsing: .captureForPassthrough, help: "coturn options, e.g. -c turnserver.conf --realm=example.com")
    var options: [String] = []

    func run() async throws {
        if options.contains("-h") || options.contains("--help") {
            print(Otter.helpMessage(for: Relay.self))
            return
        }
        let environment = ProcessInfo.processInfo.environment
        let arguments: [String]
        do {
            arguments = try await RelayEnvironment.resolve(options, environment: environment) { (env) async throws(TaskExternalIP.Failure) -> String in
                try await TaskExternalIP.detect(environment: env)
            }
        } catch {
            throw Relay.fail(error)  // typed: only RelayError reaches here
        }
        // What needed the full binary (help, the task's address) is done: run the relay-only
        // binary in this process's place, so the idle relay maps none of the CLI, server,
        // deploy and AWS code (docs/DESIGN.md "Relay process"). TURN_SECRET stays in the
        // environment, never in its arguments.
        if environment[LeanRelay.inProcessVariable] != "1", let lean = LeanRelay.beside(RelayImage.runningBinary()) {
            let error = LeanRelay.exec(lean, arguments: arguments)
            FileHandle.standardError.write(Data("otter relay: warning: cannot run \(lean) (\(String(cString: strerror(error)))); running the relay in this process\n".utf8))
        }
        let status = await RelayProcess.run(arguments: arguments, environment: environment)
        if status != 0 { throw ExitCode(status) }
    }

    /// Configuration and bind errors already say what to fix: print them
    /// without the usage text a ValidationError would add.
    static func fail(_ e: RelayError) -> ExitCode {
        FileHandle.standardError.write(Data("otter relay: error: \(e.message)\n".utf8))
        return ExitCode.failure
    }
}
