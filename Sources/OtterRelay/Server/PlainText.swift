#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The few text helpers the relay needs, written out so that OtterRelay imports
// FoundationEssentials only: CharacterSet, String(format:) and FileHandle live in
// Foundation proper, which would map Foundation, its internationalisation and
// ICU (~9 MB resident) into the relay-only process (docs/BENCHMARKS.md, goal 3).
enum PlainText {
    /// Lower-case hex of `bytes`, two digits each.
    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes all of `text` to standard error (retrying short writes and EINTR).
    static func writeStandardError(_ text: String) {
        writeAll(fd: 2, text)
    }

    /// Writes all of `text` to `fd`; false if the descriptor refused it.
    @discardableResult
    static func writeAll(fd: CInt, _ text: String) -> Bool {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (and line breaks when asked): the
    /// whitespace coturn's option and config-file syntax allows around values.
    func trimmingWhitespace(andNewlines: Bool = false) -> String {
        let isSpace: (Character) -> Bool = { c in
            c == " " || c == "\t" || (andNewlines && (c == "\n" || c == "\r" || c == "\r\n"))
        }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}
