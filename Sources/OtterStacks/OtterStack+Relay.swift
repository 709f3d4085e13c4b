/// The TURN/STUN relay: a VPC with two public subnets, Fargate tasks with public
/// IPs behind a network load balancer, CPU target tracking.
struct Relay {
    let host: CFString
    let cluster: Handle<ECSCluster>
    let service: Handle<FargateService>

    /// Peer addresses a relay must never send to (NOTES-RELAY.md "safe default
    /// deny list"): without it a TURN client could reach the VPC, the metadata
    /// endpoint or loopback through the relay. coturn takes ranges, not CIDRs.
    static let deniedPeerRanges = [
        "0.0.0.0-0.255.255.255", "10.0.0.0-10.255.255.255", "100.64.0.0-100.127.255.255",
        "127.0.0.0-127.255.255.255", "169.254.0.0-169.254.255.255", "172.16.0.0-172.31.255.255",
        "192.0.0.0-192.0.0.255", "192.168.0.0-192.168.255.255", "198.18.0.0-198.19.255.255",
        "224.0.0.0-255.255.255.255",
        "::", "::1", "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ]

    /// coturn flags; `otter relay` accepts the same. The image's entrypoint
    /// expands `$(detect-external-ip)` and `$TURN_SECRET` (coturn's image runs
    /// `exec $(eval "echo $@")`), so the values never appear in the template.
    static var relayCommand: [String] {
        let (low, high) = (OtterStack.relayPorts.lowerBound, OtterStack.relayPorts.upperBound)
        return [
            "-n", "--log-file=stdout", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint",
            "--listening-port=\(OtterStack.relayPort)", "--min-port=\(low)", "--max-port=\(high)",
            "--use-auth-secret", "--static-auth-secret=$TURN_SECRET", "--realm=otter",
            "--external-ip=$(detect-external-ip)", "--no-multicast-peers",
        ] + deniedPeerRanges.map { "--denied-peer-ip=\($0)" }
    }

    static func add(to t: inout Template, params: Params, relayImage: String, turnSecret: Handle<GeneratedSecret>) -> Relay {
        let vpc = t.add("RelayVpc", VPC(cidr: "10.42.0.0/16"))
        let igw = t.add("RelayInternetGateway", InternetGateway())
        let attachment = t.add("RelayGatewayAttachment", GatewayAttachment(vpcId: vpc.ref, internetGatewayId: igw.ref))
        let routes = t.add("RelayRouteTable", RouteTable(vpcId: vpc.ref))
        // The default route needs the gateway attached first; CloudFormation cannot see that from the refs.
        t.add("RelayDefaultRoute", InternetRoute(routeTableId: routes.ref, gatewayId: igw.ref), dependsOn: [attachment])
        var subnets: [Handle<Subnet>] = []
        for (n, name) in ["RelaySubnetA", "RelaySubnetB"].enumerated() {
            let subnet = t.add(name, Subnet(vpcId: vpc.ref, cidr: "10.42.\(n).0/24",
                                            availabilityZone: Fn.select(n, Fn.getAZs()), mapPublicIpOnLaunch: true))
            t.add("\(name)Routes", SubnetRouteTableAssociation(subnetId: subnet.ref, routeTableId: routes.ref))
            subnets.append(subnet)
        }
        let port = OtterStack.relayPort
        let group = t.add("RelaySecurityGroup", SecurityGroup(
            description: "Otter relay: STUN/TURN on \(port), relayed ports \(OtterStack.relayPorts.lowerBound)-\(OtterStack.relayPorts.upperBound)",
            vpcId: vpc.ref,
            ingress: [
                IngressRule(.udp, ports: port...port, from: "0.0.0.0/0", "STUN/TURN over UDP"),
                IngressRule(.tcp, ports: port...port, from: "0.0.0.0/0", "STUN/TURN over TCP (and NLB health checks)"),
                IngressRule(.udp, ports: OtterStack.relayPorts, from: "0.0.0.0/0", "relayed addresses (peers send here)"),
            ]))

        let logs = t.add("RelayLogs", LogGroup(retentionInDays: OtterStack.logRetentionDays))
        // The ECS agent pulls the image, writes logs and reads the TURN secret into the container's environment.
        var agent = [
            PolicyStatement(sid: "Logs", allow: ["logs:CreateLogStream", "logs:PutLogEvents"], on: [logs.arn]),
            PolicyStatement(sid: "TurnSecret", allow: ["secretsmanager:GetSecretValue"], on: [turnSecret.arn]),
        ]
        if let ecr = EcrImage(relayImage) {
            // A private ECR image: pull from that repository only. GetAuthorizationToken has
            // no resource-level permissions ("*" is the only resource AWS accepts).
            agent.append(PolicyStatement(sid: "EcrLogin", allow: ["ecr:GetAuthorizationToken"], on: ["*"]))
            agent.append(PolicyStatement(sid: "EcrPull", allow: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                                                 "ecr:GetDownloadUrlForLayer"], on: [ecr.arn]))
        }
        let executionRole = t.add("RelayExecutionRole", IAMRole(
            description: "Otter relay: ECS agent (logs, TURN secret, image pull)", assumedBy: "ecs-tasks.amazonaws.com",
            trustCondition: ["StringEquals": ["aws:SourceAccount": Pseudo.accountId.json]],
            policies: [(name: "relay-agent", document: PolicyDocument(agent))]))
        // The task itself may look up its own network interface, so an otter relay image can
        // find its public IP through the EC2 API. DescribeNetworkInterfaces has no
        // resource-level permissions: "*" is the narrowest resource AWS accepts; the
        // condition keeps it to this region.
        let taskRole = t.add("RelayTaskRole", IAMRole(
            description: "Otter relay task: discover its own public IP", assumedBy: "ecs-tasks.amazonaws.com",
            trustCondition: ["StringEquals": ["aws:SourceAccount": Pseudo.accountId.json]],
            policies: [(name: "relay-discover-ip", document: PolicyDocument([
                PolicyStatement(sid: "OwnInterface", allow: ["ec2:DescribeNetworkInterfaces"], on: ["*"],
                                condition: ["StringEquals": ["aws:RequestedRegion": Pseudo.region.json]]),
            ]))]))

        let cluster = t.add("RelayCluster", ECSCluster())
        let task = t.add("RelayTask", FargateTaskDefinition(
            cpu: "512", memory: "1024", executionRoleArn: executionRole.arn, taskRoleArn: taskRole.arn,
            container: ContainerDefinition(
                name: "relay", image: params.relayImage, command: relayCommand.map { CFString(stringLiteral: $0) },
                ports: [.init(port: port, protocolName: "udp"), .init(port: port, protocolName: "tcp")],
                secrets: ["TURN_SECRET": turnSecret.arn], logGroup: logs.ref, logPrefix: "relay",
                fileDescriptorLimit: 65536)))

        let nlb = t.add("RelayLoadBalancer", NetworkLoadBalancer(subnets: subnets.map(\.ref)))
        let targets = t.add("RelayTargets", TargetGroup(port: port, vpcId: vpc.ref))
        let listener = t.add("RelayListener", Listener(loadBalancerArn: nlb.ref, port: port, targetGroupArn: targets.ref))
        // ECS registers tasks in the target group only once a listener uses it.
        let service = t.add("RelayService", FargateService(
            cluster: cluster.ref, taskDefinition: task.ref, desiredCount: params.relayMin.int,
            subnets: subnets.map(\.ref), securityGroups: [group.groupId], targetGroupArn: targets.ref,
            containerName: "relay", containerPort: port), dependsOn: [listener])

        let scaling = t.add("RelayScalableTarget", ScalableTarget(
            resourceId: "service/\(cluster.ref)/\(service.name)", minCapacity: params.relayMin.int,
            maxCapacity: params.relayMax.int))
        // Only worth a policy when there is room to scale.
        let scales = t.condition("RelayScales", Fn.not(Fn.equals(params.relayMin.int, params.relayMax.int)))
        t.add("RelayCpuScaling", CPUTargetTrackingPolicy(
            name: "\(Pseudo.stackName)-relay-cpu", target: scaling, targetPercent: 70), condition: scales)

        return Relay(host: nlb.dnsName, cluster: cluster, service: service)
    }
}
