import Foundation

/// How the command line reports a failure: a message on stderr and exit status 1.
enum CLI {
    static func fail(_ message: String, status: Int32 = 1) -> Never {
        try? FileHandle.standardError.write(contentsOf: Data(("error: " + message + "\n").utf8))
        exit(status)
    }

    /// A line for the person at the terminal that is not part of the output (stderr).
    static func note(_ message: String) {
        try? FileHandle.standardError.write(contentsOf: Data((message + "\n").utf8))
    }

    static func notice(_ message: String) {
        try? FileHandle.standardError.write(contentsOf: Data(("notice: " + message + "\n").utf8))
    }

    static func warn(_ message: String) {
        try? FileHandle.standardError.write(contentsOf: Data(("warning: " + message + "\n").utf8))
    }
}
