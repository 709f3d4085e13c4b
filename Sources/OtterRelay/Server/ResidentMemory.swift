#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Most of an idle `otter relay`'s resident set is not heap: it is pages of
/// the `otter` binary and of the Swift runtime, Foundation and ICU libraries
/// that start-up touched (argument parsing of every command, runtime
/// metadata, library initialisers) and the relay never runs again — 30 of
/// 36 MB, against 4 MB of private dirty memory, about coturn's. Once the
/// relay is serving, `trimStartupPages` drops this process's mappings of
/// those pages: only mappings of files that are not writable and hold no
/// private (copied-on-write) page, so nothing the process changed is lost.
/// The pages stay in the kernel's page cache (shared, reclaimable); a page
/// used again is mapped back by a minor fault.
public enum ResidentMemory {
    public struct Trim: Sendable {
        public var mappings = 0
        public var bytes = 0
    }

    /// OTTER_RELAY_KEEP_STARTUP_PAGES=1 skips it (to measure the difference).
    @discardableResult
    public static func trimStartupPages() -> Trim {
        var trim = Trim()
        #if os(Linux)
        if let v = getenv("OTTER_RELAY_KEEP_STARTUP_PAGES"), String(cString: v) == "1" { return trim }
        guard let f = fopen("/proc/self/smaps", "r") else { return trim }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        // The mapping being read: its range, and whether it may be dropped so far.
        var range: (start: UInt, end: UInt)?
        var candidate = false
        var clean = true
        func finish() {
            if let r = range, candidate, clean, r.end > r.start,
               let p = UnsafeMutableRawPointer(bitPattern: r.start),
               madvise(p, Int(r.end - r.start), MADV_DONTNEED) == 0 {
                trim.mappings += 1
                trim.bytes += Int(r.end - r.start)
            }
            range = nil
        }
        while getline(&line, &capacity, f) > 0 {
            guard let line else { break }
            let text = String(cString: line)
            if let header = parseHeader(text) {
                finish()
                range = (header.start, header.end)
                candidate = header.droppable
                clean = true
            } else if text.hasPrefix("Anonymous:") || text.hasPrefix("Swap:") {
                // A page copied on write (relocations in RELRO, say), or swapped out: keep the mapping.
                if number(in: text) != 0 { clean = false }
            }
        }
        finish()
        #endif
        return trim
    }

    /// A smaps mapping header: "start-end perms offset dev inode [path]".
    /// Droppable: private, not writable, backed by a file (not [heap] or [stack]).
    static func parseHeader(_ text: String) -> (start: UInt, end: UInt, droppable: Bool)? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 5, let dash = fields[0].firstIndex(of: "-"),
              let start = UInt(fields[0][..<dash], radix: 16),
              let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16) else { return nil }
        let perms = fields[1]
        guard perms.count == 4 else { return nil }
        let path = fields.count >= 6 ? fields[5].trimmingSuffix() : ""
        let droppable = !perms.contains("w") && perms.hasSuffix("p") && path.hasPrefix("/")
        return (start, end, droppable)
    }

    private static func number(in text: String) -> Int {
        Int(text.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
    }
}

private extension Substring {
    func trimmingSuffix() -> Substring {
        var s = self
        while let last = s.last, last == "\n" || last == " " { s = s.dropLast() }
        return s
    }
}
