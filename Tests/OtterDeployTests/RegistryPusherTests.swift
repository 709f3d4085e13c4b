import Foundation
import Synchronization
import Testing
import OtterAWS
@testable import OtterDeploy
import OtterImage
#if canImport(Glibc)
import Glibc
#endif

/// Debian's docker-registry (the CNCF distribution server) on a loopback port of its own,
/// with a throwaway config and storage; its log (one line per request) says what was sent.
final class LocalRegistry: @unchecked Sendable {
    let process = Process()
    let directory: URL
    let logURL: URL
    let port: Int
    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("config.yml")
        try """
        version: 0.1
        log:
          level: info
          formatter: text
        storage:
          filesystem:
            rootdirectory: \(directory.path)/data
        http:
          addr: 127.0.0.1:0
        """.write(to: config, atomically: true, encoding: .utf8)
        logURL = directory.appendingPathComponent("registry.log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", config.path]
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        // It binds port 0 and logs "listening on 127.0.0.1:PORT".
        let deadline = Date().addingTimeInterval(30)
        var found: Int?
        while found == nil, Date() < deadline, process.isRunning {
            let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            if let r = text.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                found = Int(text[r].split(separator: ":").last ?? "")
            } else {
                usleep(50_000)
            }
        }
        guard let found else {
            process.terminate()
            throw ImagePushError(.transport, "docker-registry did not start (is the docker-registry package installed? Scripts/setup)")
        }
        port = found
    }

    /// The request lines of the log ("http.request.method=PATCH …"), from `offset` on.
    func requests(since offset: Int = 0) -> [(method: String, uri: String)] {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").dropFirst(offset).compactMap { line in
            guard line.contains("response completed"),
                  let m = line.range(of: #"http\.request\.method=\S+"#, options: .regularExpression),
                  // quoted only when it needs to be
                  let u = line.range(of: #"http\.request\.uri=("[^"]+"|\S+)"#, options: .regularExpression) else { return nil }
            return (String(line[m].dropFirst("http.request.method=".count)),
                    String(line[u].dropFirst("http.request.uri=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
    }

    var logLineCount: Int { ((try? String(contentsOf: logURL, encoding: .utf8)) ?? "").split(separator: "\n").count }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<100 where process.isRunning { usleep(20_000) }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The registry API v2 pusher against a real registry (docker-registry), read back by skopeo.
@Suite(.serialized)
struct ImagePushRegistryTests {
    /// A small image with a layer of `layerBytes` random bytes: the real relay image is ~60 MB
    /// (Tests/image pushes that one); this keeps the chunked path quick.
    static func image(layerBytes: Int) throws -> OCIImage {
        var layer = [UInt8](repeating: 0, count: layerBytes)
        for i in layer.indices { layer[i] = UInt8.random(in: 0...255) }
        // A real gzip stream (of random, so incompressible, bytes): skopeo checks what it copies.
        let layerBlob = Blob(data: try Gzip.compress(Data(layer)), mediaType: OCIMediaType.layerGzip)
        let config = Data(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["\#(layerBlob.digest)"]}}"#.utf8)
        let configDigest = OCIDigest.sha256(config)
        let manifest = Data(#"{"config":{"digest":"\#(configDigest)","mediaType":"application/vnd.oci.image.config.v1+json","size":\#(config.count)},"layers":[{"digest":"\#(layerBlob.digest)","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":\#(layerBlob.size)}],"mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2}"#.utf8)
        return OCIImage(manifest: manifest, manifestDigest: OCIDigest.sha256(manifest), config: config, configDigest: configDigest,
                        layers: [layerBlob])
    }

    @Test func pushUploadsInChunksThenASecondPushUploadsNothing() async throws {
        let registry = try LocalRegistry()
        let image = try Self.image(layerBytes: 300_000)
        let seen = Mutex<[RegistryPusher.Progress]>([])
        // 128 KiB chunks: two PATCHes and a closing PUT with the rest of the layer; the config goes in one PUT.
        let pusher = RegistryPusher(registry: registry.url, repository: "otter/t/relay", authorization: "Basic QVdTOnB3", chunkSize: 128 << 10)
        let first = try await pusher.push(image, tag: "relay-1") { p in seen.withLock { $0.append(p) } }
        #expect(first.manifestDigest == image.manifestDigest)
        #expect(first.uploadedBlobs == 2 && first.skippedBlobs == 0 && first.manifestPushed)
        #expect(first.uploadedBytes == Int64(image.config.count) + image.layers[0].size)
        let layerProgress = seen.withLock { $0 }.filter { $0.digest == image.layers[0].digest }.map(\.sent)
        #expect(layerProgress == [131_072, 262_144, image.layers[0].size])
        let methods = registry.requests().map { $0.method }
        #expect(methods.filter { $0 == "PATCH" }.count == 2)

        // skopeo (containers/image, an independent client) reads it back by digest and by tag.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("otter-pull-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try run("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://127.0.0.1:\(registry.port)/otter/t/relay:relay-1"])
        #expect(r.status == 0, "\(r.out)")
        #expect(OCIDigest.sha256(Data(r.out.utf8)) == image.manifestDigest)
        let copy = try run("skopeo", ["copy", "--src-tls-verify=false", "docker://127.0.0.1:\(registry.port)/otter/t/relay@\(image.manifestDigest)", "oci:\(out.path):x"])
        #expect(copy.status == 0, "\(copy.out)")
        let pulledLayer = try Data(contentsOf: out.appendingPathComponent("blobs/sha256/\(image.layers[0].hex)"))
        #expect(pulledLayer == (try image.layers[0].bytes()))

        // Again: HEADs only, the same digest.
        let offset = registry.logLineCount
        let second = try await pusher.push(image, tag: "relay-1")
        #expect(second.manifestDigest == first.manifestDigest)
        #expect(second.nothingPushed && second.skippedBlobs == 2)
        #expect(Set(registry.requests(since: offset).map { $0.method }) == ["HEAD"])
    }

    @Test func aSmallBlobGoesUpInOnePut() async throws {
        let registry = try LocalRegistry()
        let image = try Self.image(layerBytes: 1000)
        let outcome = try await RegistryPusher(registry: registry.url, repository: "small", authorization: nil).push(image, tag: "v1")
        #expect(outcome.uploadedBlobs == 2)
        let methods = registry.requests().map { $0.method }
        #expect(!methods.contains("PATCH"))
        #expect(methods.filter { $0 == "PUT" }.count == 3)  // two blobs, one manifest
    }

    @Test func aRefusedManifestIsAnErrorNamingTheRegistryAndRepository() async throws {
        let registry = try LocalRegistry()
        let image = try Self.image(layerBytes: 10)
        // Tags may not contain '/': the registry answers 404/400 with a distribution error code.
        let e = await #expect(throws: ImagePushError.self) {
            try await RegistryPusher(registry: registry.url, repository: "r1", authorization: nil).push(image, tag: "bad tag")
        }
        #expect(e?.code == .refused)
        #expect(e?.message.contains("r1") == true && e?.message.contains("127.0.0.1") == true, "\(String(describing: e))")
    }

    @Test func aRegistryThatIsNotThereIsATransportError() async throws {
        let image = try Self.image(layerBytes: 10)
        // Port 1 on loopback: nothing listens there (a privileged port no test binds).
        let e = await #expect(throws: ImagePushError.self) {
            try await RegistryPusher(registry: URL(string: "http://127.0.0.1:1")!, repository: "r1", authorization: nil).push(image, tag: "t")
        }
        #expect(e?.code == .transport)
    }
}

/// Runs a tool of this machine (skopeo) as an independent reader of what the code wrote.
func run(_ tool: String, _ args: [String]) throws -> (status: Int32, out: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [tool] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
