import OtterRelay

/// What a container's entrypoint script used to fill into `otter relay`'s arguments,
/// done in-process so the image needs no shell: `--external-ip=auto` becomes the
/// task's public address, and TURN_SECRET becomes one more `--static-auth-secret`.
enum RelayEnvironment {
    static let secretVariable = "TURN_SECRET"

    static func resolve(_ arguments: [String], environment: [String: String],
                        detect: ([String: String]) async throws(TaskExternalIP.Failure) -> String) async throws(RelayError) -> [String] {
        var out: [String] = []
        var i = 0
        var detected: String?
        func externalIP() async throws(RelayError) -> String {
            if let detected { return detected }
            do {
                let ip = try await detect(environment)
                detected = ip
                return ip
            } catch {
                throw RelayError(.badValue, "external-ip=auto: \(error.message)")
            }
        }
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            // coturn's image contract reaching us verbatim means no shell ran: taking the text
            // "$TURN_SECRET" as the secret would let anyone who reads the task definition relay.
            if arg.contains("$(detect-external-ip)") {
                throw RelayError(.badValue, "$(detect-external-ip) needs a shell, and otter relay runs without one: pass --external-ip=auto")
            }
            if arg.contains("$TURN_SECRET") || arg.contains("${TURN_SECRET}") {
                throw RelayError(.badValue, "$TURN_SECRET needs a shell, and otter relay runs without one: leave the secret out of the arguments, otter relay reads TURN_SECRET from the environment")
            }
            if arg == "--external-ip=auto" || arg == "-Xauto" {
                out.append("--external-ip=\(try await externalIP())")
            } else if (arg == "--external-ip" || arg == "-X"), i < arguments.count, arguments[i] == "auto" {
                i += 1
                out.append("--external-ip=\(try await externalIP())")
            } else {
                out.append(arg)
            }
        }
        if let secret = environment[secretVariable], !secret.isEmpty {
            out.append("--static-auth-secret=\(secret)")
        }
        return out
    }
}
