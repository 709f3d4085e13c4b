import ArgumentParser
import Foundation

@main
struct Otter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otter",
        abstract: "Private peer-to-peer video calls for your web app: run locally, or deploy to your AWS account.",
        subcommands: [
            Up.self,
            CreateRoom.self,
            RotateKey.self,
            Deploy.self,
            Destroy.self,
            DetectExternalIP.self,
            Doctor.self,
            Template.self,
            Relay.self,
            RelayImage.self,
        ]
    )

    /// SIGPIPE is ignored before anything runs: a reader that went away
    /// (`otter up | head -3`) must turn writes into EPIPE errors, not kill
    /// the server mid-call.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        await main(nil)
    }
}
