#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// coturn's command line and turnserver.conf share one vocabulary: `--name`
/// on the command line is `name` in the file. Both are parsed here into one
/// list of (name, value) and applied in order, so the file and flags agree.
extension RelayConfiguration {
    enum Arity { case flag, value, optionalValue }

    struct Option: Sendable {
        var arity: Arity
        var apply: @Sendable (inout RelayConfiguration, String?) throws -> Void
    }

    static let shortNames: [Character: String] = [
        "c": "conf", "L": "listening-ip", "p": "listening-port", "E": "relay-ip", "X": "external-ip",
        "r": "realm", "a": "lt-cred-mech", "u": "user", "f": "fingerprint", "l": "log-file",
        "q": "user-quota", "Q": "total-quota", "s": "max-bps", "B": "bps-capacity", "v": "verbose", "V": "Verbose",
        "n": "no-conf", "o": "daemon", "m": "relay-threads", "z": "no-auth", "S": "stun-only",
        "d": "listening-device", "i": "relay-device",
    ]

    /// coturn options that are safe to ignore (they change logging, admin
    /// consoles or transports we do not serve), with the reason given.
    static let ignoredOptions: [String: String] = [
        "no-cli": "otter relay has no telnet CLI",
        "cli-ip": "otter relay has no telnet CLI", "cli-port": "otter relay has no telnet CLI",
        "cli-password": "otter relay has no telnet CLI", "cli-max-output-sessions": "otter relay has no telnet CLI",
        "no-stdout-log": "logs go to stderr or --log-file", "syslog": "logs go to stderr or --log-file",
        "simple-log": "logs go to stderr or --log-file", "new-log-timestamp": "logs carry ISO timestamps",
        "new-log-timestamp-format": "logs carry ISO timestamps", "log-binding": "Binding requests are not logged",
        "Verbose": "use --verbose", "pidfile": "no pid file is written", "proc-user": "run the process as the user you want",
        "proc-group": "run the process as the group you want", "no-rfc5780": "RFC 5780 NAT discovery is never served",
        "no-stun-backward-compatibility": "RFC 3489 clients are never served",
        "response-origin-only-with-rfc5780": "RESPONSE-ORIGIN is not sent", "no-tlsv1": "TLS 1.0 is never offered",
        "no-tlsv1_1": "TLS 1.1 is never offered",
        "server-name": "not used", "no-multicast-peers": "multicast peers are always refused",
        "web-admin": "otter relay has no web admin", "no-web-admin": "otter relay has no web admin",
        "no-conf": "only -c/--conf is read", "prod": "SOFTWARE can be dropped with --no-software-attribute",
        "dh2066": "ECDHE only", "no-loopback-peers": "loopback peers are refused unless --allow-loopback-peers",
    ]

    /// coturn options whose absence would change behaviour: refused by name.
    static let unsupportedOptions: Set<String> = [
        "no-auth", "stun-only", "no-stun", "secure-stun", "tcp-relay", "userdb", "psql-userdb", "mysql-userdb",
        "mongo-userdb", "redis-userdb", "redis-statsdb", "oauth", "alt-listening-port", "alt-tls-listening-port",
        "aux-server", "udp-self-balance", "mobility", "listening-device", "relay-device", "tcp-proxy-port",
        "CA-file", "dh-file", "dh566", "cipher-list", "ec-curve-name", "check-origin-consistency",
        "allocation-default-address-family", "keep-address-family", "rest-api-separator",
        "server-relay", "acme-redirect", "daemon", "dtls-listening-port", "alternate-server", "tls-alternate-server",
        "sha256", "sha384", "sha512", "oauth-only", "secret-ttl", "auth-secret", "use-auth-secret-ttl",
        "no-tcp-relay", "no-udp-relay", "denied-peer-ip-file", "min-allocate-lifetime",
    ]

    static func int(_ name: String, _ v: String?, min: Int = 0, max: Int = Int.max) throws -> Int {
        guard let v, let n = Int(v.trimmingWhitespace()), n >= min, n <= max else {
            throw RelayError(.badValue, "\(name) needs a whole number between \(min) and \(max), got '\(v ?? "")'")
        }
        return n
    }

    static let options: [String: Option] = {
        var o: [String: Option] = [:]
        func value(_ name: String, _ f: @escaping @Sendable (inout RelayConfiguration, String) throws -> Void) {
            o[name] = Option(arity: .value) { c, v in try f(&c, v ?? "") }
        }
        func flag(_ name: String, _ f: @escaping @Sendable (inout RelayConfiguration) -> Void) {
            o[name] = Option(arity: .flag) { c, _ in f(&c) }
        }
        value("listening-ip") { c, v in
            // The first -L replaces the 0.0.0.0 default; later ones add to it.
            if c.listeningIPs == ["0.0.0.0"] { c.listeningIPs = [] }
            c.listeningIPs.append(v)
        }
        value("listening-port") { c, v in c.listeningPort = try int("listening-port", v, max: 65535) }
        value("tls-listening-port") { c, v in c.tlsListeningPort = try int("tls-listening-port", v, max: 65535) }
        value("cert") { c, v in c.certificateFile = v }
        value("pkey") { c, v in c.privateKeyFile = v }
        value("pkey-pwd") { _, _ in throw RelayError(.unsupportedOption, "pkey-pwd is not supported: give an unencrypted private key file") }
        value("relay-ip") { c, v in c.relayIPs.append(v) }
        value("external-ip") { c, v in
            let parts = v.split(separator: "/", maxSplits: 1).map(String.init)
            guard let pub = parts.first, IPRange.parseIP(pub) != nil, parts.count < 2 || IPRange.parseIP(parts[1]) != nil else {
                throw RelayError(.badValue, "external-ip needs 'public' or 'public/private' IP addresses, got '\(v)'")
            }
            c.externalIPs.append((pub, parts.count == 2 ? parts[1] : nil))
        }
        value("min-port") { c, v in c.minPort = try int("min-port", v, min: 1, max: 65535) }
        value("max-port") { c, v in c.maxPort = try int("max-port", v, min: 1, max: 65535) }
        value("realm") { c, v in c.realm = v }
        flag("use-auth-secret") { c in c.useAuthSecret = true }
        value("static-auth-secret") { c, v in
            guard !v.isEmpty else { throw RelayError(.badValue, "static-auth-secret is empty") }
            c.staticAuthSecrets.append(v)
        }
        flag("lt-cred-mech") { c in c.longTermCredentials = true }
        value("user") { c, v in
            guard let colon = v.firstIndex(of: ":"), colon != v.startIndex, v.index(after: colon) != v.endIndex else {
                throw RelayError(.badValue, "user needs name:password (or name:0xKEY), got '\(v)'")
            }
            c.users[String(v[..<colon])] = String(v[v.index(after: colon)...])
        }
        value("user-quota") { c, v in c.userQuota = try int("user-quota", v) }
        value("total-quota") { c, v in c.totalQuota = try int("total-quota", v) }
        value("max-bps") { c, v in c.maxBPS = try int("max-bps", v, max: Int(UInt32.max)) }
        value("bps-capacity") { c, v in c.bpsCapacity = try int("bps-capacity", v, max: Int(UInt32.max)) }
        o["stale-nonce"] = Option(arity: .optionalValue) { c, v in
            c.nonceLifetime = v == nil ? 600 : try int("stale-nonce", v, min: 1)
        }
        value("max-allocate-timeout") { c, v in c.maxAllocateTimeout = try int("max-allocate-timeout", v, min: 1) }
        value("max-allocate-lifetime") { c, v in c.maxAllocateLifetime = try int("max-allocate-lifetime", v, min: 1) }
        value("channel-lifetime") { c, v in
            // coturn: -1 or 0 means the RFC default.
            let n = try int("channel-lifetime", v, min: -1)
            c.channelLifetime = n <= 0 ? 600 : n
        }
        value("permission-lifetime") { c, v in
            let n = try int("permission-lifetime", v, min: 0)
            c.permissionLifetime = n == 0 ? 300 : n
        }
        value("denied-peer-ip") { c, v in c.deniedPeerIPs.append(try IPRange(v)) }
        value("allowed-peer-ip") { c, v in c.allowedPeerIPs.append(try IPRange(v)) }
        flag("allow-loopback-peers") { c in c.allowLoopbackPeers = true }
        flag("no-udp") { c in c.noUDP = true }
        flag("no-tcp") { c in c.noTCP = true }
        flag("no-tls") { c in c.noTLS = true }
        // DTLS is never served; the flag only acknowledges that (no start-up warning).
        flag("no-dtls") { c in c.noDTLS = true }
        flag("fingerprint") { c in c.fingerprint = true }
        flag("no-software-attribute") { c in c.software = nil }
        flag("verbose") { c in c.verbose = true }
        value("log-file") { c, v in c.logFile = v == "stdout" || v == "-" ? nil : v }
        o["prometheus"] = Option(arity: .optionalValue) { c, v in
            c.prometheusPort = v == nil ? (c.prometheusPort ?? 9641) : try int("prometheus", v, max: 65535)
        }
        // coturn's relay threads are our pump shards; 0 means one, as coturn's "single thread".
        value("relay-threads") { c, v in c.relayThreads = max(1, try int("relay-threads", v, max: 256)) }
        value("prometheus-port") { c, v in c.prometheusPort = try int("prometheus-port", v, max: 65535) }
        return o
    }()

    /// One setting as read from argv or a file, before it is applied.
    struct Setting { var name: String; var value: String?; var origin: String }

    /// Parses coturn-style arguments (`--name=value`, `--name value`, `-X value`,
    /// bare flags). A `-c FILE` is read first, then flags override it, as coturn does.
    public static func parse(arguments: [String], readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }) throws -> RelayConfiguration {
        var settings: [Setting] = []
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            var name: String
            var inline: String?
            if arg.hasPrefix("--") {
                let body = arg.dropFirst(2)
                if let eq = body.firstIndex(of: "=") {
                    name = String(body[..<eq]); inline = String(body[body.index(after: eq)...])
                } else {
                    name = String(body)
                }
            } else if arg.hasPrefix("-"), arg.count >= 2 {
                let ch = arg[arg.index(after: arg.startIndex)]
                guard let long = shortNames[ch] else {
                    throw RelayError(.unknownOption, "unknown option '\(arg)' (see coturn's turnserver options; otter relay takes the same names)")
                }
                name = long
                if arg.count > 2 { inline = String(arg.dropFirst(2)) }
            } else {
                throw RelayError(.unknownOption, "unexpected argument '\(arg)'; options start with - or --")
            }
            let arity = name == "conf" ? Arity.value : (options[name]?.arity ?? .optionalValue)
            var value = inline
            if value == nil, arity == .value {
                guard i < arguments.count else { throw RelayError(.badValue, "option --\(name) needs a value") }
                value = arguments[i]
                i += 1
            } else if value == nil, arity == .optionalValue, options[name] != nil, i < arguments.count, !arguments[i].hasPrefix("-") {
                value = arguments[i]
                i += 1
            }
            settings.append(Setting(name: name, value: value, origin: "command line"))
        }

        var config = RelayConfiguration()
        // The file first, so command-line flags override it.
        for s in settings where s.name == "conf" {
            let path = s.value ?? ""
            let text: String
            do { text = try readFile(path) } catch {
                throw RelayError(.badConfigFile, "cannot read config file '\(path)': \(error)")
            }
            for fs in try parseConfigFile(text, path: path) { try config.apply(fs) }
        }
        for s in settings where s.name != "conf" { try config.apply(s) }
        try config.validate()
        return config
    }

    /// turnserver.conf: one `name=value` or bare `name` a line, `#` comments.
    static func parseConfigFile(_ text: String, path: String) throws -> [Setting] {
        var out: [Setting] = []
        // By Character.isNewline: a file saved with CRLF line ends holds "\r\n" Characters,
        // which a split on "\n" would not cut (every line would run into the next).
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = raw.trimmingWhitespace(andNewlines: true)
            if let hash = line.firstIndex(of: "#") { line = String(line[..<hash]).trimmingWhitespace() }
            if line.isEmpty { continue }
            if line.hasPrefix("--") { line = String(line.dropFirst(2)) }
            var name = line
            var value: String?
            if let eq = line.firstIndex(of: "=") {
                name = line[..<eq].trimmingWhitespace()
                var v = line[line.index(after: eq)...].trimmingWhitespace()
                if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
                value = v
            }
            if name == "conf" {
                throw RelayError(.badConfigFile, "\(path):\(n + 1): a config file cannot include another")
            }
            out.append(Setting(name: name, value: value, origin: "\(path):\(n + 1)"))
        }
        return out
    }

    mutating func apply(_ s: Setting) throws {
        if let reason = Self.ignoredOptions[s.name] {
            warnings.append("ignoring '\(s.name)' (\(s.origin)): \(reason)")
            return
        }
        if Self.unsupportedOptions.contains(s.name) {
            throw RelayError(.unsupportedOption, "coturn option '\(s.name)' (\(s.origin)) is not supported by otter relay; remove it or run coturn")
        }
        guard let option = Self.options[s.name] else {
            throw RelayError(.unknownOption, "unknown option '\(s.name)' (\(s.origin)); otter relay accepts coturn's option names")
        }
        if option.arity == .flag, let v = s.value {
            // coturn's file accepts `fingerprint=true` style booleans.
            let lower = v.lowercased()
            if ["0", "false", "no", "off"].contains(lower) { return }
            guard ["1", "true", "yes", "on", ""].contains(lower) else {
                throw RelayError(.badValue, "'\(s.name)' (\(s.origin)) is a flag; it takes no value")
            }
        }
        if option.arity == .value, s.value == nil {
            throw RelayError(.badValue, "'\(s.name)' (\(s.origin)) needs a value")
        }
        try option.apply(&self, s.value)
    }
}
