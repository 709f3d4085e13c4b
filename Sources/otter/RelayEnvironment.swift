import OtterRelay

/// What a container's entrypoint script used to fill into `otter relay`'s arguments,
/// done in-process so the image needs no shell: `--external-ip=auto` becomes the
/// task's public address. TURN_SECRET becomes one more `--static-auth-secret` later, in
/// RelayProcess (also in `otter-relay`), so it never appears in an exec'd command line.
enum RelayEnvironment {
    static func resolve(_ arguments: [String], environment: [String: String],
                        detect: ([String: String]) async throws(TaskExternalIP.Failure) -> String) async throws(RelayError) -> [String] {
        // Refused before any lookup: no point asking for the address of a relay that cannot start.
        try RelayProcess.refuseShellSyntax(arguments)
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
            if arg == "--external-ip=auto" || arg == "-Xauto" {
                out.append("--external-ip=\(try await externalIP())")
            } else if (arg == "--external-ip" || arg == "-X"), i < arguments.count, arguments[i] == "auto" {
                i += 1
                out.append("--external-ip=\(try await externalIP())")
            } else {
                out.append(arg)
            }
        }
        return out
    }
}
