#if os(Linux)
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Debug counters, to remove once measured (issue 22, GSO/GRO question): how many datagrams per pump
/// cycle share a socket and destination (what UDP_SEGMENT could send as
/// one), or a source and size in one recvmmsg (what UDP_GRO could hand
/// over as one). Only with OTTER_RELAY_PUMP_STATS=<path>: written to
/// <path>.<pid> every 2 s. Only the pump thread touches it.
enum PumpStats {
    static let path: String? = getenv("OTTER_RELAY_PUMP_STATS").map { String(cString: $0) }
    nonisolated(unsafe) static var c: [String: Int] = [:]
    nonisolated(unsafe) static var last = Date()

    static func add(_ k: String, _ v: Int = 1) { c[k, default: 0] += v }

    /// One flush: [(fd, destination bytes, length, toClient)] in queue order.
    static func flush(_ items: [(CInt, [UInt8], Int, Bool)]) {
        guard !items.isEmpty else { return }
        add("flushes")
        for side in [false, true] {
            let s = items.filter { $0.3 == side }
            guard !s.isEmpty else { continue }
            let k = side ? "toClient" : "toPeer"
            add("\(k).dgrams", s.count)
            add("\(k).flushesWithAny")
            // Consecutive runs: same fd, same destination, same length (last may be shorter).
            var runs = 0
            var i = 0
            var maxRun = 0
            while i < s.count {
                var j = i + 1
                while j < s.count, s[j].0 == s[i].0, s[j].1 == s[i].1, s[j].2 <= s[i].2, s[j - 1].2 == s[i].2 { j += 1 }
                runs += 1
                maxRun = max(maxRun, j - i)
                if j - i > 1 { add("\(k).dgramsInRunsOf2+", j - i) }
                i = j
            }
            add("\(k).gsoSends", runs)
            c["\(k).maxRun"] = max(c["\(k).maxRun"] ?? 0, maxRun)
            // In any order: distinct (fd, destination) pairs.
            var seen = Set<[UInt8]>()
            for x in s { seen.insert(withUnsafeBytes(of: x.0) { Array($0) } + x.1) }
            add("\(k).distinctDestinations", seen.count)
        }
        dump()
    }

    /// One recvmmsg: sources (address bytes) and lengths in order.
    static func receive(_ kind: String, _ items: [([UInt8], Int)]) {
        add("\(kind).recvmmsg")
        add("\(kind).dgrams", items.count)
        var i = 0
        var groups = 0
        while i < items.count {
            var j = i + 1
            while j < items.count, items[j].0 == items[i].0, items[j].1 <= items[i].1, items[j - 1].1 == items[i].1 { j += 1 }
            groups += 1
            i = j
        }
        add("\(kind).groSameSourceGroups", groups)
    }

    static func cycle(events: Int) {
        add("cycles")
        add("events", events)
    }

    static func dump() {
        guard let path, Date().timeIntervalSince(last) > 2 else { return }
        last = Date()
        let text = c.keys.sorted().map { "\($0) \(c[$0]!)" }.joined(separator: "\n") + "\n"
        try? text.write(toFile: "\(path).\(getpid())", atomically: true, encoding: .utf8)
    }
}
#endif
