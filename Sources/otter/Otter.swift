import ArgumentParser

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
        ]
    )
}
