#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers

/// Appends log lines to a file (coturn's --log-file). swift-log's own
/// StreamLogHandler only writes to stdout/stderr.
public struct FileLogHandler: LogHandler {
    private let label: String
    private let file: LogFile
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    /// The open file, shared by every copy of the handler (one per logger label).
    final class LogFile: Sendable {
        // Writes are serialised so lines from different threads never interleave.
        let fd: CInt
        let lock = NIOLock()
        init(fd: CInt) { self.fd = fd }
        func write(_ s: String) {
            lock.withLock { _ = PlainText.writeAll(fd: fd, s) }
        }
        deinit { close(fd) }
    }

    public init(label: String, path: String) throws {
        // O_APPEND: lines land at the end even when another process (logrotate's
        // copytruncate, a second relay) writes the same file.
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RelayError(.badValue, "cannot open log file '\(path)' for writing: \(String(cString: strerror(errno)))")
        }
        self.label = label
        self.file = LogFile(fd: fd)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let meta = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let ts = Date.ISO8601FormatStyle().format(Date())
        self.file.write("\(ts) \(level) \(label): \(message)\(meta)\n")
    }
}
