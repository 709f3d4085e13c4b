import Foundation

/// `strip --strip-all` for what the loader never reads: an object cut after the last byte
/// any program header covers, with its section header table dropped. Debug info, the full
/// symbol table and section names live there (the dynamic symbols the loader binds with
/// are inside the loaded segments). Objects laid out otherwise are returned unchanged.
public enum ELFStrip {
    public static func strip(_ bytes: Data) throws -> Data {
        let r = ELFFile.Reader(bytes: bytes)
        guard bytes.count >= 64, try r.u32(0) == 0x464C_457F, try r.u8(4) == 2, try r.u8(5) == 1 else {
            throw ImageError(.badELF, "not a 64-bit little-endian ELF file")
        }
        let phoff = try r.u64(32), shoff = try r.u64(40)
        let phentsize = UInt64(try r.u16(54)), phnum = UInt64(try r.u16(56))
        let (table, tableOverflow) = phoff.addingReportingOverflow(phentsize * phnum)  // 16-bit fields: the product fits
        guard !tableOverflow, phentsize >= 56 || phnum == 0 else { throw ImageError(.badELF, "the program header table is out of range") }
        var end = table
        for i in 0..<phnum {
            let base = phoff + i * phentsize  // below `table`, so no overflow
            let (last, overflow) = try r.u64(base + 8).addingReportingOverflow(try r.u64(base + 32))
            guard !overflow else { throw ImageError(.badELF, "a program header's segment overflows") }
            end = max(end, last)
        }
        // Only when everything the loader reads precedes the section headers and the tail.
        guard end > 64, end <= UInt64(bytes.count), shoff >= end || shoff == 0 else { return bytes }
        var out = Data(bytes.prefix(Int(end)))
        // e_shoff = 0, e_shnum = 0, e_shstrndx = 0: "no section header table".
        for i in 40..<48 { out[out.startIndex + i] = 0 }
        for i in 60..<64 { out[out.startIndex + i] = 0 }
        return out
    }
}
