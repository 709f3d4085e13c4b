import Foundation

/// What the dynamic loader reads from a 64-bit little-endian ELF object: its
/// interpreter, the libraries it needs and where it asks for them to be searched.
/// Every read is bounds-checked: a truncated or hostile file is an error, never a trap.
public struct ELFFile: Sendable, Equatable {
    /// PT_INTERP, e.g. "/lib64/ld-linux-x86-64.so.2"; nil for shared libraries and static binaries.
    public var interpreter: String?
    /// DT_NEEDED, in the object's order.
    public var needed: [String] = []
    public var soname: String?
    /// DT_RPATH and DT_RUNPATH, split at ':' (unexpanded: "$ORIGIN" stays).
    public var rpath: [String] = []
    public var runpath: [String] = []
    /// e_machine: 62 is x86-64, 183 AArch64.
    public var machine: UInt16

    public static let x86_64: UInt16 = 62

    public init(bytes: Data) throws {
        let r = Reader(bytes: bytes)
        guard bytes.count >= 64, try r.u32(0) == 0x464C_457F else {
            throw ImageError(.badELF, "not an ELF file (no \\x7fELF magic)")
        }
        guard try r.u8(4) == 2, try r.u8(5) == 1 else {
            throw ImageError(.badELF, "only 64-bit little-endian ELF objects are supported")
        }
        machine = try r.u16(18)
        let phoff = try r.u64(32)
        let phentsize = Int(try r.u16(54))
        let phnum = Int(try r.u16(56))
        guard phentsize >= 56 || phnum == 0 else { throw ImageError(.badELF, "program header entries are \(phentsize) bytes, expected 56") }

        var loads: [(vaddr: UInt64, offset: UInt64, filesz: UInt64)] = []
        var dynamic: (offset: UInt64, size: UInt64)?
        for i in 0..<phnum {
            let (base, overflow) = phoff.addingReportingOverflow(UInt64(i * phentsize))
            guard !overflow, base <= UInt64.max - 56 else { throw ImageError(.badELF, "program header table offset overflows") }
            let type = try r.u32(base)
            let offset = try r.u64(base + 8), vaddr = try r.u64(base + 16), filesz = try r.u64(base + 32)
            switch type {
            case 1: loads.append((vaddr, offset, filesz))
            case 2: dynamic = (offset, filesz)
            case 3: interpreter = try r.cString(offset, limit: filesz)
            default: break
            }
        }
        guard let dynamic else { return }

        var tags: [(tag: UInt64, value: UInt64)] = []
        var at = dynamic.offset
        let end = dynamic.offset.addingReportingOverflow(dynamic.size)
        guard !end.overflow else { throw ImageError(.badELF, "dynamic section overflows") }
        while at <= end.partialValue, end.partialValue - at >= 16 {
            let tag = try r.u64(at), value = try r.u64(at + 8)
            if tag == 0 { break }
            tags.append((tag, value))
            at += 16
        }
        guard let strtabEntry = tags.first(where: { $0.tag == 5 }) else {
            if tags.contains(where: { [1, 14, 15, 29].contains($0.tag) }) {
                throw ImageError(.badELF, "dynamic section names libraries but has no string table")
            }
            return
        }
        var strsz = UInt64(bytes.count)
        if let entry = tags.first(where: { $0.tag == 10 }) { strsz = entry.value }
        let strtabAddress = strtabEntry.value
        // DT_STRTAB is a virtual address: map it to a file offset through the PT_LOAD segments.
        guard let seg = loads.first(where: { strtabAddress >= $0.vaddr && strtabAddress - $0.vaddr < $0.filesz }) else {
            throw ImageError(.badELF, "the dynamic string table lies in no loaded segment")
        }
        let strtab = (strtabAddress - seg.vaddr).addingReportingOverflow(seg.offset)
        func string(_ index: UInt64) throws -> String {
            let at = strtab.partialValue.addingReportingOverflow(index)
            guard index < strsz, !strtab.overflow, !at.overflow else {
                throw ImageError(.badELF, "a dynamic string lies outside the string table")
            }
            return try r.cString(at.partialValue, limit: strsz - index)
        }
        for (tag, value) in tags {
            switch tag {
            case 1: needed.append(try string(value))
            case 14: soname = try string(value)
            case 15: rpath += try string(value).split(separator: ":").map(String.init)
            case 29: runpath += try string(value).split(separator: ":").map(String.init)
            default: break
            }
        }
    }

    struct Reader {
        let bytes: Data

        func range(_ offset: UInt64, _ count: Int) throws -> Range<Int> {
            guard offset <= UInt64(bytes.count), UInt64(bytes.count) - offset >= UInt64(count) else {
                throw ImageError(.badELF, "truncated ELF file: \(count) bytes at offset \(offset) are past its end (\(bytes.count) bytes)")
            }
            let start = bytes.startIndex + Int(offset)
            return start..<(start + count)
        }

        func little(_ offset: UInt64, _ count: Int) throws -> UInt64 {
            let r = try range(offset, count)
            var v: UInt64 = 0
            for (i, b) in bytes[r].enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
            return v
        }

        func u8(_ o: UInt64) throws -> UInt8 { UInt8(try little(o, 1)) }
        func u16(_ o: UInt64) throws -> UInt16 { UInt16(try little(o, 2)) }
        func u32(_ o: UInt64) throws -> UInt32 { UInt32(try little(o, 4)) }
        func u64(_ o: UInt64) throws -> UInt64 { try little(o, 8) }

        /// A NUL-terminated string starting at `offset`, at most `limit` bytes long.
        func cString(_ offset: UInt64, limit: UInt64) throws -> String {
            guard offset < UInt64(bytes.count) else { throw ImageError(.badELF, "a string offset is past the end of the file") }
            let available = UInt64(bytes.count) - offset
            let r = try range(offset, Int(min(limit, available)))
            guard let nul = bytes[r].firstIndex(of: 0) else { throw ImageError(.badELF, "an unterminated string at offset \(offset)") }
            return String(decoding: bytes[r.lowerBound..<nul], as: UTF8.self)
        }
    }
}
