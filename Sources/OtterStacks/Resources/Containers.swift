public struct ECSCluster: Taggable {
    public static let typeName = "AWS::ECS::Cluster"
    public init() {}
    // No Container Insights: its metrics are billed, and CPU target tracking uses the
    // service's standard CPUUtilization metric.
    public var properties: JSON { .object([:]) }
}

/// One container of a Fargate task.
public struct ContainerDefinition: JSONRepresentable {
    public struct PortMapping: Sendable {
        public var port: Int
        public var protocolName: String
        public init(port: Int, protocolName: String) { self.port = port; self.protocolName = protocolName }
    }
    public var name: String
    public var image: CFString
    public var command: [CFString]
    public var ports: [PortMapping]
    /// Environment variables filled from Secrets Manager by the ECS agent (name → secret ARN).
    public var secrets: [String: CFString]
    public var logGroup: CFString
    public var logPrefix: String
    public var fileDescriptorLimit: Int

    public init(name: String, image: CFString, command: [CFString], ports: [PortMapping], secrets: [String: CFString],
                logGroup: CFString, logPrefix: String, fileDescriptorLimit: Int) {
        self.name = name
        self.image = image
        self.command = command
        self.ports = ports
        self.secrets = secrets
        self.logGroup = logGroup
        self.logPrefix = logPrefix
        self.fileDescriptorLimit = fileDescriptorLimit
    }

    public var json: JSON {
        props([
            "Name": name, "Image": image, "Essential": true, "Command": command,
            "PortMappings": JSON.array(ports.map { ["ContainerPort": .int($0.port), "Protocol": .string($0.protocolName)] }),
            "Secrets": JSON.array(secrets.keys.sorted().map { ["Name": .string($0), "ValueFrom": secrets[$0]!.json] }),
            "LogConfiguration": props([
                "LogDriver": "awslogs",
                "Options": JSON.object(["awslogs-group": logGroup.json, "awslogs-region": Pseudo.region.json,
                                        "awslogs-stream-prefix": .string(logPrefix)]),
            ]),
            "Ulimits": JSON.array([["Name": "nofile", "SoftLimit": .int(fileDescriptorLimit), "HardLimit": .int(fileDescriptorLimit)]]),
        ])
    }
}

public struct FargateTaskDefinition: Taggable {
    public static let typeName = "AWS::ECS::TaskDefinition"
    public var cpu: String
    public var memory: String
    public var executionRoleArn: CFString
    public var taskRoleArn: CFString?
    public var container: ContainerDefinition
    public init(cpu: String, memory: String, executionRoleArn: CFString, taskRoleArn: CFString?, container: ContainerDefinition) {
        self.cpu = cpu
        self.memory = memory
        self.executionRoleArn = executionRoleArn
        self.taskRoleArn = taskRoleArn
        self.container = container
    }
    public var properties: JSON {
        props([
            "RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc", "Cpu": cpu, "Memory": memory,
            "RuntimePlatform": props(["CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"]),
            "ExecutionRoleArn": executionRoleArn, "TaskRoleArn": taskRoleArn,
            "ContainerDefinitions": [container],
        ])
    }
}

public struct FargateService: Taggable {
    public static let typeName = "AWS::ECS::Service"
    /// One target group the service registers its tasks in (a service may have several,
    /// e.g. one per listener protocol, on the same container port).
    public struct LoadBalancer: Sendable {
        public var containerName: String
        public var containerPort: Int
        public var targetGroupArn: CFString
        public init(containerName: String, containerPort: Int, targetGroupArn: CFString) {
            self.containerName = containerName
            self.containerPort = containerPort
            self.targetGroupArn = targetGroupArn
        }
    }
    public var cluster: CFString
    public var taskDefinition: CFString
    public var desiredCount: CFInt
    public var subnets: [CFString]
    public var securityGroups: [CFString]
    public var loadBalancers: [LoadBalancer]

    public init(cluster: CFString, taskDefinition: CFString, desiredCount: CFInt, subnets: [CFString],
                securityGroups: [CFString], loadBalancers: [LoadBalancer]) {
        self.cluster = cluster
        self.taskDefinition = taskDefinition
        self.desiredCount = desiredCount
        self.subnets = subnets
        self.securityGroups = securityGroups
        self.loadBalancers = loadBalancers
    }

    public var properties: JSON {
        props([
            "Cluster": cluster, "TaskDefinition": taskDefinition, "DesiredCount": desiredCount, "LaunchType": "FARGATE",
            "NetworkConfiguration": props(["AwsvpcConfiguration": props([
                // A public IP per task: it is the relay address the task announces (see README).
                "AssignPublicIp": "ENABLED", "Subnets": subnets, "SecurityGroups": securityGroups,
            ])]),
            "LoadBalancers": JSON.array(loadBalancers.map {
                props(["ContainerName": $0.containerName, "ContainerPort": $0.containerPort, "TargetGroupArn": $0.targetGroupArn])
            }),
            "HealthCheckGracePeriodSeconds": 30,
            "DeploymentConfiguration": props(["MinimumHealthyPercent": 100, "MaximumPercent": 200,
                                              "DeploymentCircuitBreaker": props(["Enable": true, "Rollback": true])]),
            "EnableECSManagedTags": true, "PropagateTags": "SERVICE",
        ])
    }
}

extension Handle where R == FargateService {
    public var name: CFString { getAtt("Name") }
}
