import Foundation

/// /bin/cat stands in for `otter-relay` beside /bin/ls's stand-in for `otter` (both small,
/// dynamically linked x86-64 programs; /bin has no otter-relay, so it is passed explicitly).
let standInRelay = URL(fileURLWithPath: "/bin/cat")

/// Runs a tool of this machine (tar, python3, readelf, ldd) as an independent reader of what the code wrote.
func run(_ tool: String, _ args: [String], stdin: Data? = nil) throws -> (status: Int32, out: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [tool] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    let input = Pipe()
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

func temporaryDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("otter-image-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}
