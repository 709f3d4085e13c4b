import Foundation
import Logging

/// Appends log lines to a file (coturn's --log-file). swift-log's own
/// StreamLogHandler only writes to stdout/stderr.
public struct FileLogHandler: LogHandler {
    private let label: String
    private let file: FileHandleBox
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    final class FileHandleBox: @unchecked Sendable {
        // FileHandle writes are serialised by this lock: handlers are shared across threads.
        let handle: FileHandle
        let lock = NSLock()
        init(handle: FileHandle) { self.handle = handle }
        func write(_ s: String) {
            lock.lock(); defer { lock.unlock() }
            handle.write(Data(s.utf8))
        }
    }

    public init(label: String, path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw RelayError(.badValue, "cannot create log file '\(path)'")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw RelayError(.badValue, "cannot open log file '\(path)' for writing")
        }
        h.seekToEndOfFile()
        self.label = label
        self.file = FileHandleBox(handle: h)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let meta = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let ts = ISO8601DateFormatter().string(from: Date())
        self.file.write("\(ts) \(level) \(label): \(message)\(meta)\n")
    }
}
