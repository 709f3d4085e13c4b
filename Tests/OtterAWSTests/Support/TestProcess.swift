import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process a test starts and always stops (servers like moto).
final class TestProcess: @unchecked Sendable {
    let process = Process()
    let output = Pipe()

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    /// The port from the child's "listening on http://127.0.0.1:PORT" line: the
    /// servers here bind port 0 and say which port they got, so no test picks a
    /// port and hopes it stays free. Nil if the child exits or stays silent.
    func listeningPort(timeout: TimeInterval = 120) -> Int? {
        let fd = output.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(timeout)
        var text = ""
        var buf = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            if let line = text.split(separator: "\n").first(where: { $0.contains("listening on http://") }),
               let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
                return port
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) >= 0 else { return nil }
            guard p.revents != 0 else { continue }
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return nil }
            text += String(decoding: buf[0..<n], as: UTF8.self)
        }
        return nil
    }

    /// Kills the child and waits (bounded) for it. Foundation's
    /// `waitUntilExit` can hang on Linux when called from a task, so this polls.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<100 where process.isRunning { usleep(20_000) }
    }

    deinit { stop() }
}

/// A TCP port on 127.0.0.1 that refuses connections: bound (so no one else
/// can take it) but not listening, for as long as this value lives.
final class RefusingPort: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket: errno \(errno)")
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        precondition(r == 0, "bind: errno \(errno)")
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }
}
