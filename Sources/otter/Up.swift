import ArgumentParser
import Foundation
import Hummingbird
import Logging
import OtterCore
import OtterLocalState
import OtterRelay
import OtterServer

/// `otter up`: the whole stack on this machine.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole Otter stack on this machine: REST API, signaling, STUN/TURN relay and the web app."
    )

    @Option(help: "Address to listen on. 0.0.0.0 serves your LAN: links then use this machine's first network address unless --public-url says otherwise.")
    var host = "127.0.0.1"

    @Option(help: "HTTP port for the API, signaling and the web app.")
    var port = 8080

    @Option(help: "UDP/TCP port of the embedded STUN/TURN relay.")
    var relayPort = 3478

    @Option(name: .customLong("relay-tcp-port"), help: "A second TCP port for the relay, e.g. 443 for networks that let only HTTPS out; handed to browsers as a turn: URL. Ports below 1024 need root or CAP_NET_BIND_SERVICE.")
    var relayTCPPort: Int?

    @Option(help: "PEM certificate for TURN over TLS (turns: URLs); it must name the host in the links. With --relay-tls-key. `kill -HUP` restarts the relay alone and re-reads it.")
    var relayTlsCert: String?

    @Option(help: "PEM private key for --relay-tls-cert.")
    var relayTlsKey: String?

    @Option(help: "TCP port for TURN over TLS.")
    var relayTlsPort = 5349

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

    @Option(help: "Open connections (HTTP and WebSocket) one client address may hold; more are closed at once.")
    var maxConnectionsPerAddress = 64

    // For tests: shorter limits so a probe of them runs in seconds.
    @Option(help: .hidden) var requestTimeout: Double = 10
    @Option(help: .hidden) var joinTimeout: Double = 10

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535") }
        guard (1...65535).contains(relayPort) else { throw ValidationError("--relay-port must be 1-65535") }
        for (flag, p) in [("--relay-tcp-port", relayTCPPort), ("--relay-tls-port", relayTlsCert == nil ? nil : relayTlsPort)] {
            guard let p else { continue }
            guard (1...65535).contains(p) else { throw ValidationError("\(flag) must be 1-65535") }
            guard p != relayPort else { throw ValidationError("\(flag) \(p) is --relay-port already; pick another port") }
        }
        if relayTCPPort != nil, relayTCPPort == relayTlsPort, relayTlsCert != nil {
            throw ValidationError("--relay-tcp-port and --relay-tls-port are both \(relayTlsPort); pick two ports (the TCP port accepts TLS too)")
        }
        guard (relayTlsCert == nil) == (relayTlsKey == nil) else {
            throw ValidationError("--relay-tls-cert and --relay-tls-key go together")
        }
        for file in [relayTlsCert, relayTlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("cannot read \(file); check the path given to --relay-tls-cert / --relay-tls-key")
        }
        guard maxConnectionsPerAddress >= 1 else { throw ValidationError("--max-connections-per-address must be at least 1") }
        guard requestTimeout > 0, joinTimeout > 0 else { throw ValidationError("timeouts must be positive") }
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
        let dataDir = self.dataDir
        let folder = LocalState(directory: dataDir), keyFile = folder.apiKey(for: .up)
        // Everything this process creates (SQLite's -wal/-shm, up.json, the
        // key file) is private from the start, whatever the caller's umask.
        umask(0o077)
        do {
            if try PrivateDataDirectory.secure(dataDir) > 0 {
                CLI.notice("made \(dataDir) private (folder 0700, files 0600): it holds the signing and TURN secrets")
            }
        } catch {
            CLI.fail("\(error)")
        }
        FileLimit.raiseToHardLimit(logger: logger)
        var publicURL = self.publicURL
        if publicURL == nil, ReachableAddress.isWildcard(host) {
            guard let choice = ReachableAddress.pick() else {
                CLI.fail("--host \(host) listens on every interface, but this machine has no address other machines can reach. Pass --public-url with the address callers use, or listen on 127.0.0.1.")
            }
            publicURL = "http://\(choice.address):\(port)"
            CLI.note("--host \(host) has no address of its own to put in links: using \(choice.address) (\(choice.interface)). Pass --public-url to choose another.")
        }
        var settings = ServerConfiguration(host: host, port: port, relayPort: relayPort, publicURL: publicURL,
                                           dataDirectory: dataDir, webAppDirectory: webDir ?? WebAppLocator.find())
        settings.maxConnectionsPerAddress = maxConnectionsPerAddress
        settings.requestTimeout = .milliseconds(Int64(requestTimeout * 1000))
        settings.joinTimeout = .milliseconds(Int64(joinTimeout * 1000))
        settings.relayAllowsPrivatePeers = relayAllowPrivatePeers
        settings.relayTCPPort = relayTCPPort
        settings.relayTLSCertificate = relayTlsCert
        settings.relayTLSKey = relayTlsKey
        settings.relayTLSPort = relayTlsPort
        var relayIO = RelayConfiguration()
        relayIO.applyIOPathSwitches(environment: ProcessInfo.processInfo.environment)
        settings.relayUDPOnPump = relayIO.udpOnPump
        settings.relayTCPDirectWrites = relayIO.tcpDirectWrites
        let config = settings
        let store: StateStore
        do { store = try StateStore(dataDirectory: dataDir) } catch {
            CLI.fail("cannot open the state in \(dataDir): \(error). Check the folder's permissions, or pass --data-dir.")
        }
        let secrets: ServerSecrets, newKey: APIKey?
        do {
            (secrets, newKey) = try store.bootstrap { try folder.saveAPIKey($0.value, for: .up) }
        } catch {
            CLI.fail("could not keep the new API key in \(keyFile) (\(error)); nothing was stored. Check the folder's permissions, or pass --data-dir.")
        }
        let keyFileMissing = newKey == nil && folder.loadAPIKey(for: .up) == nil
        let state = try await ServerState(config: config, store: store, secrets: secrets)
        if config.webAppDirectory == nil {
            logger.warning("web app folder not found; the API and signaling run without it (pass --web-dir)")
        }
        // Something to click at once: a room of the default size, as `otter create-room` makes.
        let sample = try await state.rooms.create().url
        let relay = EmbeddedRelay(config: config, turnSecret: secrets.turnSecret, logger: Logger(label: "otter.relay"))
        do { _ = try await relay.start() } catch {
            let ports = [relayPort] + [relayTCPPort].compactMap { $0 } + (config.relayTLSEnabled ? [relayTlsPort] : [])
            CLI.fail("the relay could not listen on \(host) port \(ports.map(String.init).joined(separator: "/")) (\(error)). Is another TURN server running? Pick another --relay-port (or --relay-tcp-port, --relay-tls-port).")
        }

        let storePath = store.path
        // The links are printed once the server listens, so a script that
        // waits for them can use them at once.
        let app = buildApplication(state, logger: logger) {
            say("API URL: \(config.baseURL)")
            if let key = newKey {
                say("API key: \(key.value)")
                say("         (the server keeps only its hash, in \(storePath); a copy for the otter CLI is in \(keyFile), mode 0600)")
            } else if keyFileMissing {
                say("API key: no copy in \(keyFile) (the server keeps only its hash). If you no longer have it, run `otter rotate-key --data-dir \(dataDir)`: it makes a new one without the old.")
            } else {
                say("API key: stored in \(keyFile) (mode 0600; the server itself keeps only its hash)")
            }
            try? folder.saveUpEndpoint(apiURL: config.baseURL)
            say("Web app: \(config.baseURL)/")
            say("Sample room: \(sample)")
            say("Relay: \(config.turnURLs.joined(separator: ", "))")
            say(EmbeddedRelay.peerPolicyLine(for: config))
            say("Next: open the Sample room link in two browser tabs · `otter create-room` for more rooms · Ctrl-C to stop")
        }
        do {
            try await serviceGroup(app: app, state: state, relay: relay, logger: logger).run()
            CLI.note("otter up stopped. Rooms and keys are kept in \(dataDir); `Scripts/otter` or `otter up` starts it again.")
        } catch {
            guard let code = ListenFailure.bindErrno(error) else { throw error }
            CLI.fail("the API could not listen on \(host):\(port) (\(String(cString: strerror(code)))). Is another `otter up` or web server running? Pick another --port.")
        }
    }
}

/// Writes a line to stdout at once (stdout is block-buffered when piped, and
/// scripts wait for these lines while the server keeps running). A reader
/// that has gone (`| head -3`) costs the line, not the server: the throwing
/// write, since `write(_: Data)` traps on EPIPE.
func say(_ line: String) {
    try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
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
