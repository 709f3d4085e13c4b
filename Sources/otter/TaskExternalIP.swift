import Foundation
import OtterAWS

/// The ECS task's public IPv4 address: its private address from the task metadata
/// endpoint (v4), then the public address of the network interface holding it, through
/// EC2 DescribeNetworkInterfaces with the task role. Fargate gives the container only
/// its private address; no third-party "what is my IP" service is asked.
enum TaskExternalIP {
    struct Failure: Error { let message: String }

    static func detect(environment: [String: String], region: String? = nil) async throws(Failure) -> String {
        guard let metadata = environment["ECS_CONTAINER_METADATA_URI_V4"], !metadata.isEmpty else {
            throw Failure(message: "ECS_CONTAINER_METADATA_URI_V4 is not set: this only works inside an ECS task. Elsewhere pass --external-ip yourself.")
        }
        let privateIP: String
        do {
            privateIP = try await TaskMetadata.privateIPv4(metadataURI: metadata)
        } catch {
            throw Failure(message: "cannot read the task metadata at \(metadata): \(error)")
        }
        let config: AWSConfiguration
        do {
            config = try await AWSConfiguration.resolveIncludingContainer(region: region)
        } catch let e as AWSError {
            throw Failure(message: e.message)
        } catch {
            throw Failure(message: "\(error)")
        }
        do {
            guard let ip = try await EC2(client: AWSClient(configuration: config)).publicIP(ofInterfaceWithPrivateIP: privateIP) else {
                throw Failure(message: "the network interface with \(privateIP) has no public IP. Run the relay service with assignPublicIp ENABLED in a public subnet.")
            }
            return ip
        } catch let e as Failure {
            throw e
        } catch {
            throw Failure(message: "EC2 DescribeNetworkInterfaces failed: \(error). The task role needs ec2:DescribeNetworkInterfaces.")
        }
    }
}
