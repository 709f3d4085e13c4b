import Foundation
import Testing
import OtterLocalState

/// The data folder on the real file system, in a fresh temporary folder per test.
struct LocalStateTests {
    let folder: LocalState

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("otter-localstate-\(UUID().uuidString)").path
        folder = LocalState(directory: dir + "/.otter")
    }

    @Test func everyFileHasItsOwnName() {
        let names = [folder.database, folder.upEndpoint, folder.apiKey(for: .up), folder.apiKey(for: .stack("prod")),
                     folder.deployRecord(stack: "prod"), folder.deployLog(stack: "prod")]
        #expect(names.map { ($0 as NSString).lastPathComponent }
            == ["otter.sqlite", "up.json", "api-key", "prod.api-key", "prod.json", "prod.deploy.log"])
        #expect(Set(names).count == names.count)
        #expect(names.allSatisfy { $0.hasPrefix(folder.directory + "/") })
    }

    @Test func upJSONIsNotADeployedStack() throws {
        try folder.saveUpEndpoint(apiURL: "http://127.0.0.1:8080")
        try Data("{}".utf8).write(to: URL(fileURLWithPath: folder.deployRecord(stack: "b")))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: folder.deployRecord(stack: "a")))
        #expect(folder.deployedStacks == ["a", "b"])
        #expect(folder.loadUpEndpoint() == "http://127.0.0.1:8080")
    }

    @Test(arguments: [LocalState.Owner.up, .stack("prod")])
    func aKeyIsPrivateFromTheStartAndReplacedWhole(owner: LocalState.Owner) throws {
        try folder.saveAPIKey("otk_first", for: owner)
        try folder.saveAPIKey("otk_second", for: owner)
        #expect(folder.loadAPIKey(for: owner) == "otk_second")
        let file = try FileManager.default.attributesOfItem(atPath: folder.apiKey(for: owner))
        #expect((file[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let dir = try FileManager.default.attributesOfItem(atPath: folder.directory)
        #expect((dir[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.directory) == [(folder.apiKey(for: owner) as NSString).lastPathComponent])
    }

    @Test func removingAStackLeavesTheOthersAndOtterUp() throws {
        try folder.saveAPIKey("otk_up", for: .up)
        for stack in ["gone", "kept"] {
            try folder.saveAPIKey("otk_\(stack)", for: .stack(stack))
            try Data("{}".utf8).write(to: URL(fileURLWithPath: folder.deployRecord(stack: stack)))
            try Data("log".utf8).write(to: URL(fileURLWithPath: folder.deployLog(stack: stack)))
        }
        folder.removeDeploy(stack: "gone")
        #expect(folder.deployedStacks == ["kept"])
        #expect(folder.loadAPIKey(for: .stack("gone")) == nil && !FileManager.default.fileExists(atPath: folder.deployLog(stack: "gone")))
        #expect(folder.loadAPIKey(for: .stack("kept")) == "otk_kept" && folder.loadAPIKey(for: .up) == "otk_up")
    }

    @Test func aFolderThatCannotBeCreatedIsReportedWithItsPath() throws {
        let parent = (folder.directory as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: folder.directory))  // a file where the folder should be
        let error = #expect(throws: LocalStateError.self) { try folder.saveAPIKey("otk_x", for: .up) }
        #expect(error?.code == .cannotWrite)
        #expect(error?.message.contains(folder.directory) == true)
    }
}
