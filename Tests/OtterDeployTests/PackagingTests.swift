import Foundation
import Testing
import ZIPFoundation
@testable import OtterDeploy
import OtterStacks

@Suite struct PackagingTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var lambda: String { repo.appendingPathComponent("Templates/lambda").path }
    static var webapp: String { repo.appendingPathComponent("Templates/webapp").path }

    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("otter-pkg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func sameHandlersGiveTheSameBytes() throws {
        let a = try HandlerPackage.build(directory: Self.lambda)
        let b = try HandlerPackage.build(directory: Self.lambda)
        #expect(a.bytes == b.bytes)
        #expect(a.key == b.key && a.key.hasPrefix("handlers/") && a.key.hasSuffix(".zip"))
        #expect(a.files.contains("otter_common.py") && !a.files.contains("README.md"))
    }

    @Test func aChangedFileChangesTheKeyAndTheZipHoldsTheFiles() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("def handler(e, c):\n    return 1\n".utf8).write(to: dir.appendingPathComponent("h.py"))
        try Data("not packaged".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        let first = try HandlerPackage.build(directory: dir.path)
        // Touching the file (new mtime, same bytes) changes nothing.
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: dir.appendingPathComponent("h.py").path)
        #expect(try HandlerPackage.build(directory: dir.path).bytes == first.bytes)
        try Data("def handler(e, c):\n    return 2\n".utf8).write(to: dir.appendingPathComponent("h.py"))
        let second = try HandlerPackage.build(directory: dir.path)
        #expect(second.key != first.key)

        let archive = try Archive(data: Data(second.bytes), accessMode: .read)
        let names = archive.map(\.path)
        #expect(names == ["h.py"])
        var extracted = Data()
        _ = try archive.extract(archive["h.py"]!) { extracted.append($0) }
        #expect(String(decoding: extracted, as: UTF8.self).contains("return 2"))
    }

    /// otter_common reads limits.json beside itself, so the zip `otter deploy`
    /// uploads holds Templates/limits.json at its root, byte for byte.
    @Test func theZipCarriesTheLimitsFile() throws {
        let request = DeployRequest(stack: OtterStackOptions(), yes: true, interactive: false, dataDirectory: "/tmp",
                                    lambdaDirectory: Self.lambda, webAppDirectory: Self.webapp)
        #expect(request.limitsFile == Self.repo.appendingPathComponent("Templates/limits.json").path)
        let package = try HandlerPackage.build(directory: Self.lambda, shared: [request.limitsFile])
        #expect(package.files.contains("limits.json") && package.files.contains("otter_common.py"))
        let archive = try Archive(data: Data(package.bytes), accessMode: .read)
        var extracted = Data()
        _ = try archive.extract(try #require(archive["limits.json"])) { extracted.append($0) }
        #expect(extracted == (try Data(contentsOf: URL(fileURLWithPath: request.limitsFile))))
        #expect(throws: DeployError.self) {
            try HandlerPackage.build(directory: Self.lambda, shared: [Self.repo.appendingPathComponent("Templates/nope.json").path])
        }
    }

    @Test func aFolderWithoutHandlersIsAClearError() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: DeployError.self) { try HandlerPackage.build(directory: dir.path) }
    }

    @Test func artifactsBucketNamesAreValidS3Names() {
        let long = String(repeating: "Stack-", count: 30) + "x"
        for stack in ["otter", "My-Stack", long] {
            let name = ArtifactsBucket.name(stack: stack, account: "123456789012", region: "ap-southeast-2")
            #expect(name.count <= 63 && name.count >= 3)
            #expect(name == name.lowercased() && !name.hasSuffix("-"))
        }
    }

    /// S3 bucket names are global, lower-case and at most 63 characters
    /// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html),
    /// so a name built from the stack must not let two stacks meet in one bucket.
    @Test func artifactsBucketNamesOfDifferentStacksNeverCollide() {
        let prefix = String(repeating: "team-video-", count: 5)
        let stacks = [prefix + "staging", prefix + "production", "Otter", "otter", "OTTER-x", "otter-x"]
        let names = stacks.map { ArtifactsBucket.name(stack: $0, account: "123456789012", region: "ap-southeast-2") }
        #expect(Set(names).count == stacks.count, "\(names)")
        #expect(names.allSatisfy { $0.count <= 63 })
        // A short lower-case name keeps the plain form existing deploys already use.
        #expect(ArtifactsBucket.name(stack: "otter", account: "123456789012", region: "eu-west-1") == "otter-123456789012-eu-west-1-otter")
    }

    @Test func webAppFilesCarryTypesAndCacheRules() throws {
        let files = try SiteUploader.files(webAppDirectory: Self.webapp,
                                           configJS: SiteUploader.configJS(apiURL: "https://a", signalURL: "wss://s", stunURLs: ["stun:h:3478"]))
        let byKey = Dictionary(uniqueKeysWithValues: files.map { ($0.key, $0) })
        #expect(byKey["index.html"]?.contentType == "text/html; charset=utf-8")
        #expect(byKey["index.html"]?.cacheControl == "no-cache")
        #expect(byKey["config.js"]?.cacheControl == "no-cache")
        #expect(byKey["otter.js"]?.contentType == "text/javascript; charset=utf-8")
        #expect(byKey["icons/mic.svg"]?.contentType == "image/svg+xml")
        #expect(byKey["README.md"] == nil)
    }

    @Test func configJSHoldsOnlyPublicEndpoints() throws {
        let js = SiteUploader.configJS(apiURL: "https://api.example", signalURL: "wss://ws.example/v1", stunURLs: ["stun:relay:3478"])
        #expect(js.hasPrefix("window.OTTER_CONFIG = {") && js.hasSuffix(";\n"))
        let json = js.dropFirst("window.OTTER_CONFIG = ".count).dropLast(2)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        #expect(Set(object.keys) == ["apiUrl", "signalUrl", "iceServersPath", "stunUrls"])
        #expect(object["signalUrl"] as? String == "wss://ws.example/v1")
    }

    @Test func noChangeReasonsAreRecognised() {
        #expect(ChangeSetReview.meansNoChanges("The submitted information didn't contain changes. Submit different information to create a change set."))
        #expect(ChangeSetReview.meansNoChanges("No updates are to be performed."))
        #expect(!ChangeSetReview.meansNoChanges("Parameters: [HandlersKey] must have values"))
    }
}
