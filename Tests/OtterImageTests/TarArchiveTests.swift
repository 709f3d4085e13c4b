import Foundation
import Testing
@testable import OtterImage

@Suite struct TarArchiveTests {
    static let longPath = "usr/lib/" + String(repeating: "a", count: 60) + "/" + String(repeating: "b", count: 70) + "/lib.so"
    static let veryLongName = "opt/" + String(repeating: "c", count: 120)

    var entries: [TarEntry] {
        [
            .file("otter", Data("#binary".utf8), mode: 0o755),
            .file("etc/passwd", Data("otter:x:65532:65532::/nonexistent:/sbin/nologin\n".utf8)),
            .symlink("lib64/ld.so", to: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
            .directory("tmp", mode: 0o1777),
            .file(Self.longPath, Data(count: 1000)),
            .file(Self.veryLongName, Data("x".utf8)),
        ]
    }

    @Test func pythonsTarfileReadsBackEveryEntryWithFixedOwnerAndTime() throws {
        let tar = try TarArchive.write(entries)
        let script = """
        import sys, tarfile, io, json
        t = tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read()), mode="r:")
        print(json.dumps([[m.name, m.type.decode(), oct(m.mode), m.uid, m.gid, m.uname, m.mtime, m.size, m.linkname,
                           t.extractfile(m).read().decode("latin1") if m.isfile() and m.size < 100 else ""] for m in t.getmembers()]))
        """
        let (status, out) = try run("python3", ["-c", script], stdin: tar)
        #expect(status == 0, "\(out)")
        let members = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [[Any]]
        let names = members.map { $0[0] as! String }
        // Sorted, with every parent directory present.
        #expect(names == ["etc", "etc/passwd", "lib64", "lib64/ld.so", "opt", Self.veryLongName, "otter", "tmp", "usr", "usr/lib",
                          "usr/lib/" + String(repeating: "a", count: 60),
                          "usr/lib/" + String(repeating: "a", count: 60) + "/" + String(repeating: "b", count: 70), Self.longPath])
        for m in members {
            #expect(m[3] as! Int == 0 && m[4] as! Int == 0 && (m[5] as! String) == "")
            #expect(m[6] as! Int == TarArchive.fixedModificationTime)
        }
        let byName = Dictionary(uniqueKeysWithValues: members.map { ($0[0] as! String, $0) })
        #expect(byName["otter"]![2] as! String == "0o755" && byName["otter"]![9] as! String == "#binary")
        #expect(byName["tmp"]![1] as! String == "5" && byName["tmp"]![2] as! String == "0o1777")
        #expect(byName["lib64/ld.so"]![1] as! String == "2" && byName["lib64/ld.so"]![8] as! String == "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
        #expect(byName[Self.longPath]![7] as! Int == 1000)
        #expect(byName[Self.veryLongName]![9] as! String == "x")
    }

    @Test func gnuTarListsAndExtractsIt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("layer.tar")
        try TarArchive.write(entries).write(to: file)
        let (status, out) = try run("tar", ["-tvf", file.path])
        #expect(status == 0, "\(out)")
        #expect(out.contains("-rwxr-xr-x 0/0") && out.contains("otter"))
        #expect(out.contains("2000-01-01"))
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let x = try run("tar", ["-xf", file.path, "-C", root.path])
        #expect(x.status == 0, "\(x.out)")
        #expect(try Data(contentsOf: root.appendingPathComponent(Self.veryLongName)) == Data("x".utf8))
    }

    @Test func theSameEntriesInAnyOrderGiveTheSameBytes() throws {
        #expect(try TarArchive.write(entries) == TarArchive.write(entries.reversed()))
        #expect(try Gzip.compress(TarArchive.write(entries)) == Gzip.compress(TarArchive.write(entries.shuffled())))
    }

    @Test func pathsOutsideTheImageAreRefused() {
        #expect(throws: ImageError.self) { try TarArchive.write([.file("../etc/passwd", Data())]) }
        #expect(throws: ImageError.self) { try TarArchive.write([.file("/", Data())]) }
    }

    @Test func gzipRoundTripsAndGunzipReadsIt() throws {
        let data = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 1000) })
        let gz = try Gzip.compress(data)
        #expect(try Gzip.decompress(gz) == data)
        // The header's mtime (bytes 4-7) is zero: compressing later gives the same bytes.
        #expect(gz[4..<8] == Data([0, 0, 0, 0]))
        let (status, out) = try run("python3", ["-c", "import sys, gzip, hashlib; print(hashlib.sha256(gzip.decompress(sys.stdin.buffer.read())).hexdigest())"], stdin: gz)
        #expect(status == 0)
        #expect("sha256:" + out.trimmingCharacters(in: .whitespacesAndNewlines) == OCIDigest.sha256(data))
        #expect(throws: ImageError.self) { try Gzip.decompress(gz.prefix(gz.count / 2)) }
    }
}
