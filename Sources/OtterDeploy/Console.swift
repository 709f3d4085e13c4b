import Foundation
import Synchronization

/// Where deploy and destroy report progress. Lines go out unbuffered, so a
/// user (or a test reading the pipe) sees each one as it happens; with
/// `--json`, progress goes to stderr and stdout keeps only the result.
///
/// On a terminal (`live`), the stack events of a phase collapse into one
/// line rewritten in place; the full stream goes to the log file, which gets
/// every line either way. Without a terminal, or with --verbose, every event
/// is printed as before.
public struct Console: Sendable {
    public let progressToStderr: Bool
    public let started = Date()
    /// Rewrite one progress line instead of printing every event.
    public let live: Bool
    let log: ConsoleLog?
    private let line = LiveLine()

    /// `logPath`: created (truncated) on the first line written, so a run that
    /// refuses before printing anything leaves no file behind.
    public init(progressToStderr: Bool, live: Bool = false, logPath: String? = nil) {
        self.progressToStderr = progressToStderr
        self.live = live
        self.log = logPath.map(ConsoleLog.init)
    }

    public var logPath: String? { log?.path }

    var stream: FileHandle { progressToStderr ? FileHandle.standardError : FileHandle.standardOutput }

    /// A line everyone sees. `logged: false` keeps a secret (the API key, a
    /// room link) out of the log file.
    public func say(_ text: String, logged: Bool = true) {
        if logged { log?.write(text) }
        line.clear(on: live ? stream : nil)
        stream.write(Data((text + "\n").utf8))
    }

    /// A line for the log; printed too unless the console is live.
    public func detail(_ text: String) {
        log?.write(text)
        if !live {
            stream.write(Data((text + "\n").utf8))
        }
    }

    /// Replaces the progress line (live only; the events went through `detail`).
    public func progress(_ text: String) {
        guard live else { return }
        line.show(Self.fit(text, columnsOf: progressToStderr ? STDERR_FILENO : STDOUT_FILENO), on: stream)
    }

    /// Ends a phase: the progress line gives way to `summary` (printed and logged).
    public func endProgress(_ summary: String) {
        guard live else { return }
        log?.write(summary)
        line.clear(on: stream)
        stream.write(Data((summary + "\n").utf8))
    }

    /// Before the final error is printed (elsewhere, on stderr): clears the
    /// progress line and adds the error to a log the run has already started
    /// (a run that wrote nothing gets no file for it).
    public func finish(error text: String) {
        line.clear(on: live ? stream : nil)
        log?.write("error: " + text, onlyIfOpen: true)
    }

    public func result(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    public var elapsed: String {
        let s = Int(Date().timeIntervalSince(started))
        return s < 60 ? "\(s)s" : "\(s / 60)m\(String(format: "%02d", s % 60))s"
    }

    /// A progress line must not wrap, or rewriting it in place leaves the first part behind.
    static func fit(_ text: String, columnsOf fd: Int32) -> String {
        var size = winsize()
        let columns = ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 100
        return text.count < columns ? text : String(text.prefix(max(columns - 2, 10))) + "…"
    }
}

/// Whether a progress line is on screen (shared by the copies of a Console).
final class LiveLine: Sendable {
    private let shown = Mutex(false)

    func show(_ text: String, on stream: FileHandle) {
        shown.withLock { s in
            stream.write(Data(("\r\u{1B}[2K" + text).utf8))
            s = true
        }
    }

    func clear(on stream: FileHandle?) {
        shown.withLock { s in
            if s, let stream { stream.write(Data("\r\u{1B}[2K".utf8)) }
            s = false
        }
    }
}

/// The log file: every line of the run. Opened (truncated) on the first line.
final class ConsoleLog: Sendable {
    enum State { case unopened, open(FileHandle), failed }

    let path: String
    private let state = Mutex<State>(.unopened)

    init(path: String) { self.path = path }

    func write(_ text: String, onlyIfOpen: Bool = false) {
        state.withLock { s in
            if case .unopened = s, !onlyIfOpen { s = Self.open(path) }
            if case .open(let f) = s { f.write(Data((text + "\n").utf8)) }
        }
    }

    private static func open(_ path: String) -> State {
        let dir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir.isEmpty ? "." : dir, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let f = FileHandle(forWritingAtPath: path) else { return .failed }
        let command = (["otter"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        f.write(Data("# \(command) — \(ISO8601DateFormatter().string(from: Date()))\n".utf8))
        return .open(f)
    }
}
