import ArgumentParser
import Foundation
import Hummingbird
import Logging
import OtterCore
import OtterServer

/// `otter up`: the whole stack on this machine.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole Otter stack on this machine: REST API, signaling, STUN/TURN relay and the web app."
    )

    @Option(help: "Address to listen on. Use 0.0.0.0 (with --public-url) to serve your LAN.")
    var host = "127.0.0.1"

    @Option(help: "HTTP port for the API, signaling and the web app.")
    var port = 8080

    @Option(help: "UDP/TCP port of the embedded STUN/TURN relay.")
    var relayPort = 3478

    @Option(help: "URL other machines use to reach this server (e.g. http://192.168.1.20:8080); used in room links and config.js.")
    var publicURL: String?

    @Option(help: "Folder for Otter's state (SQLite: rooms, API key hash, secrets).")
    var dataDir = ".otter"

    @Option(help: "Folder with the web app (default: Templates/webapp next to the executable or in the current folder).")
    var webDir: String?

    @Flag(help: "Let the embedded relay reach loopback and private addresses although --host is not a loopback address (a LAN whose callers are all trusted). Always allowed on 127.0.0.1.")
    var relayAllowPrivatePeers = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel = "info"

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535") }
        guard (1...65535).contains(relayPort) else { throw ValidationError("--relay-port must be 1-65535") }
        if let u = publicURL {
            guard let url = URL(string: u), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ValidationError("--public-url must be an http(s) URL such as http://192.168.1.20:\(port)")
            }
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return h
        }
        let logger = Logger(label: "otter.up")
        FileLimit.raiseToHardLimit(logger: logger)
        var configured = ServerConfiguration(host: host, port: port, relayPort: relayPort, publicURL: publicURL,
                                             dataDirectory: dataDir, webAppDirectory: webDir ?? WebAppLocator.find())
        configured.relayAllowsPrivatePeers = relayAllowPrivatePeers
        let config = configured
        let store: StateStore
        do { store = try StateStore(dataDirectory: dataDir) } catch {
            CLI.fail("cannot open the state in \(dataDir): \(error). Check the folder's permissions, or pass --data-dir.")
        }
        let (secrets, newKey) = try store.bootstrap()
        let state = try await ServerState(config: config, store: store, secrets: secrets)
        if config.webAppDirectory == nil {
            logger.warning("web app folder not found; the API and signaling run without it (pass --web-dir)")
        }
        let sample = try await SampleRoom.create(state: state)
        let relay = EmbeddedRelay(config: config, turnSecret: secrets.turnSecret, logger: Logger(label: "otter.relay"))
        do { _ = try await relay.start() } catch {
            CLI.fail("the relay could not listen on \(host):\(relayPort) (\(error)). Is another TURN server running? Pick another --relay-port.")
        }

        let storePath = store.path
        let dataDir = self.dataDir
        // The links are printed once the server listens, so a script that
        // waits for them can use them at once.
        let app = buildApplication(state, logger: logger) {
            say("API URL: \(config.baseURL)")
            if let key = newKey {
                say("API key: \(key.value)")
                say("         (the server keeps only its hash, in \(storePath); a copy for the otter CLI is in \(APIKeyFile.path(dataDirectory: dataDir)), mode 0600)")
                try? APIKeyFile.save(key.value, dataDirectory: dataDir)
            } else {
                say("API key: stored in \(APIKeyFile.path(dataDirectory: dataDir)) (mode 0600; the server itself keeps only its hash)")
            }
            try? LocalEndpoint.save(apiURL: config.baseURL, dataDirectory: dataDir)
            say("Web app: \(config.baseURL)/")
            say("Sample room: \(sample)")
            say("Relay: \(config.turnURLs.joined(separator: ", "))")
            say(EmbeddedRelay.peerPolicyLine(for: config))
        }
        try await serviceGroup(app: app, state: state, relay: relay, logger: logger).run()
    }
}

/// Writes a line to stdout at once (stdout is block-buffered when piped, and
/// scripts wait for these lines while the server keeps running).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// The first room link `otter up` prints, so there is something to click.
enum SampleRoom {
    static func create(state: ServerState) async throws -> String {
        let now = Date()
        let room = StoredRoom(id: Secrets.newRoomID(), maxPeers: 4, createdAt: Int(now.timeIntervalSince1970),
                              expiresAt: Int(now.timeIntervalSince1970 + RoomRules.defaultTTL))
        try state.store.insert(room)
        let token = try await state.tokens.sign(RoomClaims(roomID: room.id, maxPeers: room.maxPeers, issuedAt: now,
                                                           expiresAt: Date(timeIntervalSince1970: TimeInterval(room.expiresAt))))
        return "\(state.config.baseURL)/?room=\(room.id)#token=\(token)"
    }
}

/// Finds Templates/webapp: beside the working folder, or above the executable
/// (.build/<config>/otter → the package root).
enum WebAppLocator {
    static func find() -> String? {
        var candidates = [FileManager.default.currentDirectoryPath + "/Templates/webapp"]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("Templates/webapp").path)
            dir = dir.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
    }
}
