import Foundation

/// `otter-relay`, the relay-only executable built beside `otter` (Package.swift). `otter relay`
/// execs it so the idle relay costs what coturn's does plus a few MB, not the whole CLI's
/// pages (docs/BENCHMARKS.md, goal 3); without it, `otter relay` runs the relay itself.
enum LeanRelay {
    static let executableName = "otter-relay"
    /// `OTTER_RELAY_IN_PROCESS=1`: run the relay inside `otter` even when `otter-relay` is
    /// there (benchmarks compare the two).
    static let inProcessVariable = "OTTER_RELAY_IN_PROCESS"

    /// `otter-relay` in the same directory as `binary`, if it is there and executable.
    static func beside(_ binary: String) -> String? {
        let path = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent(executableName).path
        return access(path, X_OK) == 0 ? path : nil
    }

    /// Replaces this process with `otter-relay relay ARGUMENTS` (same pid, environment and
    /// descriptors, so a supervisor's signals reach the relay). Returns errno if exec failed.
    static func exec(_ path: String, arguments: [String]) -> Int32 {
        var argv: [UnsafeMutablePointer<CChar>?] = ([path, "relay"] + arguments).map { strdup($0) }
        argv.append(nil)
        execv(path, argv)
        let error = errno
        argv.forEach { free($0) }
        return error
    }
}
