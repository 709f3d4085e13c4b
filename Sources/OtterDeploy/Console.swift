import Foundation

/// Where deploy and destroy report progress. Lines go out unbuffered, so a
/// user (or a test reading the pipe) sees each one as it happens; with
/// `--json`, progress goes to stderr and stdout keeps only the result.
public struct Console: Sendable {
    public let progressToStderr: Bool
    public let started = Date()

    public init(progressToStderr: Bool) { self.progressToStderr = progressToStderr }

    public func say(_ line: String) {
        let data = Data((line + "\n").utf8)
        (progressToStderr ? FileHandle.standardError : FileHandle.standardOutput).write(data)
    }

    public func result(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    public var elapsed: String {
        let s = Int(Date().timeIntervalSince(started))
        return s < 60 ? "\(s)s" : "\(s / 60)m\(String(format: "%02d", s % 60))s"
    }
}
