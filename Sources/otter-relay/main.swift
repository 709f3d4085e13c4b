#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import OtterRelay

// `otter-relay`: the TURN/STUN relay alone, without the CLI, server, deploy and AWS code of
// `otter` (no Hummingbird, GRDB, libcurl, FoundationXML). `otter relay` resolves what needs
// those (`--external-ip=auto`, help) and then execs this binary when it sits beside it, so
// an idle relay holds only the pages this binary and its libraries touch (docs/BENCHMARKS.md,
// goal 3). It takes `otter relay`'s arguments, with or without the leading `relay`.

signal(SIGPIPE, SIG_IGN)
var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "relay" { arguments.removeFirst() }
if arguments.contains("-h") || arguments.contains("--help") {
    print("""
        USAGE: otter-relay [relay] <coturn options>

        The relay that `otter relay` runs: coturn's flags and turnserver.conf, TURN_SECRET from
        the environment. See `otter relay --help` for the options.
        """)
    exit(0)
}
for (i, arg) in arguments.enumerated() where arg == "--external-ip=auto" || arg == "-Xauto"
    || ((arg == "--external-ip" || arg == "-X") && arguments.dropFirst(i + 1).first == "auto") {
    RelayProcess.fail("external-ip=auto is resolved by `otter relay` (it asks the ECS task metadata and EC2); run `otter relay` instead of otter-relay, or pass --external-ip yourself")
    exit(1)
}
exit(await RelayProcess.run(arguments: arguments, environment: ProcessInfo.processInfo.environment))
