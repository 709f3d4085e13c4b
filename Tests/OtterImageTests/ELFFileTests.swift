import Foundation
import Testing
@testable import OtterImage

@Suite struct ELFFileTests {
    /// readelf (binutils) as the independent reader.
    func readelfNeeded(_ path: String) throws -> [String] {
        let (_, out) = try run("readelf", ["-d", path])
        return out.split(separator: "\n").compactMap { line in
            guard line.contains("(NEEDED)"), let open = line.lastIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close])
        }
    }

    @Test func readsInterpreterAndNeededLikeReadelf() throws {
        let elf = try ELFFile(bytes: Data(contentsOf: URL(fileURLWithPath: "/bin/ls")))
        #expect(elf.machine == ELFFile.x86_64)
        #expect(elf.interpreter == "/lib64/ld-linux-x86-64.so.2")
        let readelf = try readelfNeeded("/bin/ls")
        #expect(elf.needed == readelf)
        #expect(elf.needed.contains("libc.so.6"))
        let libc = try ELFFile(bytes: Data(contentsOf: URL(fileURLWithPath: "/lib/x86_64-linux-gnu/libc.so.6")))
        #expect(libc.soname == "libc.so.6")
    }

    @Test func theClosureOfLsIsWhatLddLists() throws {
        let objects = try DependencyClosure().resolve(binary: "/bin/ls", imagePath: "/ls")
        let (status, out) = try run("ldd", ["/bin/ls"])
        #expect(status == 0)
        // ldd prints "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and the loader's own line.
        let lddNames = Set(out.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            guard !t.hasPrefix("linux-vdso") else { return nil }
            return t.split(separator: " ").first.map { String($0.split(separator: "/").last!) }
        })
        let ours = Set(objects.map { String($0.imagePath.split(separator: "/").last!) })
        #expect(ours == lddNames)
        #expect(objects.first?.imagePath == "/lib64/ld-linux-x86-64.so.2")
    }

    @Test func truncatedAndCorruptedFilesAreErrorsNeverTraps() throws {
        let ls = try Data(contentsOf: URL(fileURLWithPath: "/bin/ls"))
        #expect(throws: ImageError.self) { try ELFFile(bytes: Data()) }
        #expect(throws: ImageError.self) { try ELFFile(bytes: Data("#!/bin/sh\n".utf8)) }
        var elf32 = ls
        elf32[4] = 1
        #expect(throws: ImageError.self) { try ELFFile(bytes: elf32) }
        // Every prefix length around the headers and tables.
        for n in stride(from: 0, to: min(ls.count, 20_000), by: 61) {
            _ = try? ELFFile(bytes: ls.prefix(n))
            _ = try? ELFStrip.strip(ls.prefix(n))
        }
        // Random byte flips, with a fixed seed so a failure can be replayed.
        var rng = SplitMix(seed: 42)
        for _ in 0..<2000 {
            var copy = ls
            for _ in 0..<4 {
                let at = Int(rng.next() % UInt64(min(copy.count, 16_384)))
                copy[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            _ = try? ELFFile(bytes: copy)
            _ = try? ELFStrip.strip(copy)
        }
        // Tables pointing at the end of the address space.
        var huge = ls
        for i in 32..<40 { huge[i] = 0xFF }
        #expect(throws: ImageError.self) { try ELFFile(bytes: huge) }
        #expect(throws: ImageError.self) { try ELFStrip.strip(huge) }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct ELFStripTests {
    @Test func aStrippedProgramStillRunsAndReadelfSeesNoSections() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = try Data(contentsOf: URL(fileURLWithPath: "/bin/ls"))
        let stripped = try ELFStrip.strip(original)
        #expect(stripped.count < original.count)
        let file = dir.appendingPathComponent("ls")
        try stripped.write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
        let listing = try run(file.path, [dir.path])
        #expect(listing.status == 0 && listing.out.contains("ls"))
        let header = try run("readelf", ["-h", file.path])
        #expect(header.out.contains("Number of section headers:         0"))
        // What the loader reads is unchanged.
        #expect(try ELFFile(bytes: stripped) == ELFFile(bytes: original))
    }

    @Test func notELFIsAnError() {
        #expect(throws: ImageError.self) { try ELFStrip.strip(Data("hello".utf8)) }
        #expect(throws: ImageError.self) { try ELFStrip.strip(Data(count: 64)) }
    }
}
