/// A validating JSON scanner that does not build values: it checks a whole
/// document (RFC 8259) and reports where each top-level member's value lies,
/// so signaling can forward `data` as the client's own bytes without decoding
/// and re-encoding it (the server never needs to understand SDP).
///
/// Hostile input never traps: every read is bounds-checked and nesting is
/// limited to `maxDepth`.
struct JSONScanner {
    struct Invalid: Error {}

    struct Member {
        var key: String
        var value: Range<Int>
    }

    static let maxDepth = 64

    private let b: [UInt8]
    private var i = 0

    private init(_ bytes: [UInt8]) { b = bytes }

    /// The members of the top-level object, in order; throws when the
    /// document is not exactly one valid JSON object.
    static func objectMembers(_ bytes: [UInt8]) throws(Invalid) -> [Member] {
        var s = JSONScanner(bytes)
        s.skipSpace()
        guard s.peek == UInt8(ascii: "{") else { throw Invalid() }
        let members = try s.object(depth: 1, collect: true)
        s.skipSpace()
        guard s.i == s.b.count else { throw Invalid() }
        return members
    }

    /// The decoded text of a JSON string token at `range` (quotes included).
    static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        var s = JSONScanner(bytes)
        s.i = range.lowerBound
        return try? s.string()
    }

    private var peek: UInt8? { i < b.count ? b[i] : nil }

    private mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 }
    }

    private mutating func expect(_ c: UInt8) throws(Invalid) {
        guard peek == c else { throw Invalid() }
        i += 1
    }

    private mutating func value(depth: Int) throws(Invalid) {
        guard depth <= Self.maxDepth else { throw Invalid() }
        switch peek {
        case UInt8(ascii: "{"): _ = try object(depth: depth, collect: false)
        case UInt8(ascii: "["): try array(depth: depth)
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try number()
        }
    }

    private mutating func object(depth: Int, collect: Bool) throws(Invalid) -> [Member] {
        try expect(UInt8(ascii: "{"))
        var members: [Member] = []
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1; return members }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw Invalid() }
            let key: String
            if collect { key = try string() } else { try skipString(); key = "" }
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            let start = i
            try value(depth: depth + 1)
            if collect { members.append(Member(key: key, value: start..<i)) }
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: "}"))
            return members
        }
    }

    private mutating func array(depth: Int) throws(Invalid) {
        try expect(UInt8(ascii: "["))
        skipSpace()
        if peek == UInt8(ascii: "]") { i += 1; return }
        while true {
            skipSpace()
            try value(depth: depth + 1)
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: "]"))
            return
        }
    }

    private mutating func literal(_ word: StaticString) throws(Invalid) {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw Invalid() }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { throw Invalid() }
        i += n
    }

    private mutating func digits() throws(Invalid) {
        guard let c = peek, c >= 0x30, c <= 0x39 else { throw Invalid() }
        while let c = peek, c >= 0x30, c <= 0x39 { i += 1 }
    }

    private mutating func number() throws(Invalid) {
        if peek == UInt8(ascii: "-") { i += 1 }
        if peek == UInt8(ascii: "0") { i += 1 } else { try digits() }
        if peek == UInt8(ascii: ".") { i += 1; try digits() }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            try digits()
        }
    }

    private mutating func skipString() throws(Invalid) {
        try expect(UInt8(ascii: "\""))
        var none: [UInt8] = []
        while let c = peek {
            i += 1
            switch c {
            case UInt8(ascii: "\""): return
            case UInt8(ascii: "\\"): try escape(collect: false, into: &none)
            case 0..<0x20: throw Invalid()
            default: break
            }
        }
        throw Invalid()
    }

    private mutating func string() throws(Invalid) -> String {
        try expect(UInt8(ascii: "\""))
        var out: [UInt8] = []
        while let c = peek {
            i += 1
            switch c {
            case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"): try escape(collect: true, into: &out)
            case 0..<0x20: throw Invalid()
            default: out.append(c)
            }
        }
        throw Invalid()
    }

    /// After a backslash: one escape, appended to `out` as UTF-8 when `collect`.
    private mutating func escape(collect: Bool, into out: inout [UInt8]) throws(Invalid) {
        guard let c = peek else { throw Invalid() }
        i += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): if collect { out.append(c) }
        case UInt8(ascii: "b"): if collect { out.append(0x08) }
        case UInt8(ascii: "f"): if collect { out.append(0x0C) }
        case UInt8(ascii: "n"): if collect { out.append(0x0A) }
        case UInt8(ascii: "r"): if collect { out.append(0x0D) }
        case UInt8(ascii: "t"): if collect { out.append(0x09) }
        case UInt8(ascii: "u"):
            var unit = try hex4()
            if (0xD800..<0xDC00).contains(unit), peek == UInt8(ascii: "\\"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "u") {
                i += 2
                let low = try hex4()
                if (0xDC00..<0xE000).contains(low) {
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                }
            }
            if collect {
                let scalar = Unicode.Scalar(unit) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
        default: throw Invalid()
        }
    }

    private mutating func hex4() throws(Invalid) -> UInt32 {
        guard i + 4 <= b.count else { throw Invalid() }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw Invalid()
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }
}
