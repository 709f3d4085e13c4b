#if os(Linux)
import Glibc
import Testing
@testable import OtterRelay

struct ResidentMemoryTests {
    func residentKB() -> Int {
        guard let f = fopen("/proc/self/status", "r") else { return -1 }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, f) > 0, let line {
            let s = String(cString: line)
            if s.hasPrefix("VmRSS:") { return Int(s.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1 }
        }
        return -1
    }

    @Test func headersOfReadOnlyPrivateFileMappingsAreDroppable() {
        let text = ResidentMemory.parseHeader("7f00a0000000-7f00a0010000 r-xp 00001000 08:01 1234  /usr/lib/libc.so.6\n")
        #expect(text?.start == 0x7f00a000_0000 && text?.end == 0x7f00a001_0000 && text?.droppable == true)
        // Writable, shared, anonymous and special mappings are kept.
        #expect(ResidentMemory.parseHeader("1000-2000 rw-p 00000000 08:01 1234 /usr/lib/libc.so.6\n")?.droppable == false)
        #expect(ResidentMemory.parseHeader("1000-2000 r--s 00000000 08:01 1234 /dev/shm/x\n")?.droppable == false)
        #expect(ResidentMemory.parseHeader("1000-2000 r--p 00000000 00:00 0\n")?.droppable == false)
        #expect(ResidentMemory.parseHeader("1000-2000 r-xp 00000000 00:00 0 [vdso]\n")?.droppable == false)
        #expect(ResidentMemory.parseHeader("Rss:                 120 kB\n") == nil)
    }

    @Test func trimmingThisProcessShrinksItsResidentSetAndBreaksNothing() {
        let before = residentKB()
        let trim = ResidentMemory.trimStartupPages()
        let after = residentKB()
        #expect(trim.mappings > 0)
        #expect(after < before)
        // Code and constants come back on use: the runtime, Foundation-free string work, the codec.
        let words = (0..<1000).map { "w\($0)" }.joined(separator: ",")
        #expect(words.split(separator: ",").count == 1000)
        // The standard CRC-32 check value.
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }
}
#endif
