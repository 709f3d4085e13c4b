import Foundation
import Testing
@testable import OtterImage

/// /bin/ls stands in for the otter binary here (a small dynamically linked x86-64 program);
/// Tests/image builds and runs the real relay image.
@Suite struct RelayImageBuilderTests {
    @Test func theSameBinaryGivesTheSameDigestsAndAnotherBinaryAnotherLayer() throws {
        let first = try RelayImageBuilder(binary: URL(fileURLWithPath: "/bin/ls"), relayBinary: standInRelay).build()
        let second = try RelayImageBuilder(binary: URL(fileURLWithPath: "/bin/ls"), relayBinary: standInRelay).build()
        #expect(first == second)
        #expect(first.manifestDigest == second.manifestDigest)

        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var changed = try Data(contentsOf: URL(fileURLWithPath: "/bin/ls"))
        // One byte of code or data changed (the middle lies in a loaded segment; bytes past
        // them would be stripped and change nothing): still a valid ELF file.
        changed[changed.count / 2] ^= 0xFF
        let other = dir.appendingPathComponent("ls")
        try changed.write(to: other)
        let third = try RelayImageBuilder(binary: other, relayBinary: standInRelay).build()
        #expect(third.layers[0].digest != first.layers[0].digest)
        #expect(third.configDigest != first.configDigest && third.manifestDigest != first.manifestDigest)
    }

    @Test func theLayerHoldsBinaryLoaderLibrariesCertificatesAndUser() throws {
        let image = try RelayImageBuilder(binary: URL(fileURLWithPath: "/bin/ls"), relayBinary: standInRelay).build()
        let tar = try Gzip.decompress(image.layers[0].bytes())
        let (status, out) = try run("tar", ["-tvf", "-"], stdin: tar)
        #expect(status == 0, "\(out)")
        for path in ["otter", "otter-relay", "lib64/ld-linux-x86-64.so.2", "lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libselinux.so.1",
                     "etc/passwd", "etc/group", "etc/ssl/certs/ca-certificates.crt", "tmp/"] {
            #expect(out.contains(" \(path)"), "\(path) missing in:\n\(out)")
        }
        let config = try JSONSerialization.jsonObject(with: image.config) as! [String: Any]
        #expect(config["architecture"] as? String == "amd64" && config["os"] as? String == "linux")
        let c = config["config"] as! [String: Any]
        #expect(c["Entrypoint"] as? [String] == ["/otter", "relay"])
        #expect(c["User"] as? String == "65532:65532")
        #expect((c["ExposedPorts"] as? [String: Any]).map { Set($0.keys) } == ["3478/udp", "3478/tcp"])
        let rootfs = config["rootfs"] as! [String: Any]
        #expect(rootfs["diff_ids"] as? [String] == [OCIDigest.sha256(tar)])
        let manifest = try JSONSerialization.jsonObject(with: image.manifest) as! [String: Any]
        let layers = manifest["layers"] as! [[String: Any]]
        #expect(layers[0]["digest"] as? String == image.layers[0].digest)
        #expect((manifest["config"] as! [String: Any])["digest"] as? String == image.configDigest)
        let layerBytes = try image.layers[0].bytes()
        #expect(OCIDigest.sha256(layerBytes) == image.layers[0].digest)
    }

    @Test func theLayoutHoldsEveryBlobUnderItsDigest() throws {
        let image = try RelayImageBuilder(binary: URL(fileURLWithPath: "/bin/ls"), relayBinary: standInRelay).build()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try OCILayout.write(image, to: dir, tag: "v1")
        let blobs = dir.appendingPathComponent("blobs/sha256")
        for blob in image.layers + [image.configBlob, image.manifestBlob] {
            let data = try Data(contentsOf: blobs.appendingPathComponent(blob.hex))
            #expect(OCIDigest.sha256(data) == blob.digest && Int64(data.count) == blob.size)
        }
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("index.json"))) as! [String: Any]
        let m = (index["manifests"] as! [[String: Any]])[0]
        #expect(m["digest"] as? String == image.manifestDigest)
        #expect((m["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == "v1")
        #expect(try String(contentsOf: dir.appendingPathComponent("oci-layout"), encoding: .utf8) == #"{"imageLayoutVersion":"1.0.0"}"#)
    }

    @Test func aMissingLibraryIsNamedInTheError() throws {
        let closure = DependencyClosure(systemDirectories: ["/nonexistent"], configuredDirectories: [])
        do {
            _ = try RelayImageBuilder(binary: URL(fileURLWithPath: "/bin/ls"), relayBinary: standInRelay, closure: closure).build()
            Issue.record("built an image without its libraries")
        } catch let e as ImageError {
            #expect(e.code == .libraryNotFound && e.message.contains("libselinux.so.1") && e.message.contains("/nonexistent"))
        }
    }

    @Test func theRelayBinaryBesideOtterIsPackedAndItsAbsenceNamesTheFix() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let otter = dir.appendingPathComponent("otter")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: "/bin/ls"), to: otter)
        do {
            _ = try RelayImageBuilder(binary: otter).build()
            Issue.record("built an image without otter-relay")
        } catch let e as ImageError {
            #expect(e.code == .missingRelayBinary)
            #expect(e.message.contains(dir.appendingPathComponent("otter-relay").path) && e.message.contains("--product otter-relay"), "\(e.message)")
        }
        // Beside it now: found without being named, packed byte for byte (stripping leaves
        // a program with no debug sections as it is) at /otter-relay.
        try FileManager.default.copyItem(at: standInRelay, to: dir.appendingPathComponent("otter-relay"))
        let builder = RelayImageBuilder(binary: otter, strip: false)
        #expect(builder.relayBinary.path == dir.appendingPathComponent("otter-relay").path)
        let entries = try builder.entries()
        let packed = entries.compactMap { e -> Data? in
            if case .file(let data) = e.kind, e.path == "otter-relay" { return data }
            return nil
        }
        #expect(packed == [try Data(contentsOf: standInRelay)])
        // Each library once, though both programs load libc.
        let paths = entries.map(\.path)
        #expect(Set(paths).count == paths.count)
        // A program that is its own relay (coturn's turnserver in Scripts/bench-relay-image): once, at /otter.
        let alone = try RelayImageBuilder(binary: otter, relayBinary: otter).entries().map(\.path)
        #expect(alone.contains("otter") && !alone.contains("otter-relay"))
    }
}
