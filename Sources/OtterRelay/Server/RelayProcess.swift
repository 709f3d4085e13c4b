#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// The relay as a process: coturn-style arguments in, a running server until SIGINT or
/// SIGTERM. Shared by `otter relay` (when it runs the relay itself) and the relay-only
/// executable `otter-relay`, which `otter relay` execs when it sits beside it: the same
/// parsing, logging and shutdown either way.
public enum RelayProcess {
    /// The environment variable whose value becomes one more `--static-auth-secret`,
    /// so the secret never appears in a command line (or in /proc/PID/cmdline).
    public static let secretVariable = "TURN_SECRET"

    /// The arguments plus TURN_SECRET from the environment, if set.
    public static func withEnvironmentSecret(_ arguments: [String], environment: [String: String]) throws(RelayError) -> [String] {
        try refuseShellSyntax(arguments)
        guard let secret = environment[secretVariable], !secret.isEmpty else { return arguments }
        return arguments + ["--static-auth-secret=\(secret)"]
    }

    /// coturn's image contract reaching us verbatim means no shell ran: taking the text
    /// "$TURN_SECRET" as the secret would let anyone who reads the task definition relay.
    public static func refuseShellSyntax(_ arguments: [String]) throws(RelayError) {
        for arg in arguments {
            if arg.contains("$(detect-external-ip)") {
                throw RelayError(.badValue, "$(detect-external-ip) needs a shell, and otter relay runs without one: pass --external-ip=auto")
            }
            if arg.contains("$TURN_SECRET") || arg.contains("${TURN_SECRET}") {
                throw RelayError(.badValue, "$TURN_SECRET needs a shell, and otter relay runs without one: leave the secret out of the arguments, otter relay reads TURN_SECRET from the environment")
            }
        }
    }

    /// Parses `arguments` (TURN_SECRET added), starts the server, and returns its exit
    /// status once a signal stopped it. Errors are printed as `otter relay: error: …`.
    public static func run(arguments: [String], environment: [String: String]) async -> Int32 {
        var config: RelayConfiguration
        do {
            config = try RelayConfiguration.parse(arguments: try withEnvironmentSecret(arguments, environment: environment))
            config.applyIOPathSwitches(environment: environment)
        } catch let e as RelayError {
            return fail(e.message)
        } catch {
            return fail("\(error)")
        }
        let level: Logger.Level = config.verbose ? .debug : .info
        if let path = config.logFile {
            let handler: FileLogHandler
            do { handler = try FileLogHandler(label: "otter.relay", path: path) } catch {
                return fail((error as? RelayError)?.message ?? "\(error)")
            }
            LoggingSystem.bootstrap { _ in var h = handler; h.logLevel = level; return h }
        } else {
            LoggingSystem.bootstrap { label in var h = StreamLogHandler.standardError(label: label); h.logLevel = level; return h }
        }
        let server = RelayServer(configuration: config)
        do {
            _ = try await server.start()
        } catch let e as RelayError {
            return fail(e.message)
        } catch {
            return fail("\(error)")
        }
        await waitForTermination()
        do { try await server.shutdown() } catch { return fail("shutdown: \(error)") }
        return 0
    }

    @discardableResult
    public static func fail(_ message: String) -> Int32 {
        PlainText.writeStandardError("otter relay: error: \(message)\n")
        return 1
    }

    /// Returns on SIGINT or SIGTERM (what `docker stop` and ECS send).
    static func waitForTermination() async {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (stream, cont) = AsyncStream<Void>.makeStream()
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { cont.yield() }
            s.resume()
            sources.append(s)
        }
        for await _ in stream { break }
        sources.forEach { $0.cancel() }
    }
}
