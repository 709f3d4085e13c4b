/// The TURN/STUN relay: a VPC with two public subnets, Fargate tasks with public
/// IPs behind a network load balancer, CPU target tracking.
struct Relay {
    let host: CFString
    let cluster: Handle<ECSCluster>
    let service: Handle<FargateService>
    /// What the ICE handler hands out (TURN_URLS, output `TurnUrls`), comma-separated.
    let turnUrls: CFString

    /// How long a task that leaves the load balancer (scale-in, redeploy) keeps relaying the
    /// flows it has: ECS stops the task only after its targets' deregistration delay, and the
    /// NLB sends a deregistering target no new flows. 15 minutes lets most calls end and a
    /// longer one ICE-restart onto another task; longer would make every relay redeploy and
    /// `otter destroy` wait as long (the NLB waits out the delay even with no flows left).
    static let drainSeconds = 900
    /// Between two scale-in steps; at least 10 minutes, so the CPU a draining
    /// task's calls still use is not read as spare capacity and a second task removed.
    static let scaleInCooldownSeconds = 900
    /// TLS 1.3 and 1.2 only: ELB's recommended policy for TLS listeners.
    static let tlsPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

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

    /// coturn flags; `otter relay` accepts the same. coturn's image entrypoint
    /// expands `$(detect-external-ip)` and `$TURN_SECRET` (coturn's image runs
    /// `exec $(eval "echo $@")`), so the values never appear in the template.
    /// The quotas bound what one link (one room's shared TURN username) or one task can
    /// take: allocations per username, allocations per task, bytes/s per allocation.
    static func relayCommand(_ o: OtterStackOptions) -> [String] {
        let (low, high) = (OtterStack.relayPorts.lowerBound, OtterStack.relayPorts.upperBound)
        return [
            "-n", "--log-file=stdout", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint",
            "--listening-port=\(OtterStack.relayPort)", "--min-port=\(low)", "--max-port=\(high)",
            // `otter relay` does in-process what coturn's entrypoint shell does: the secret
            // from TURN_SECRET, the public address from the task's own interface.
            "--use-auth-secret",
        ] + (o.relayImageIsOtter ? [] : ["--static-auth-secret=$TURN_SECRET"]) + [
            "--realm=otter", o.relayImageIsOtter ? "--external-ip=auto" : "--external-ip=$(detect-external-ip)",
            "--no-multicast-peers",
            "--user-quota=\(o.relayUserQuota)", "--total-quota=\(o.relayTotalQuota)", "--max-bps=\(o.relayMaxBps)",
        ] + deniedPeerRanges.map { "--denied-peer-ip=\($0)" }
    }

    /// The URLs in the order clients should try them: UDP, TCP, then 443 for networks that
    /// allow only HTTPS (TLS when the stack has a domain and certificate), STUN last.
    static func turnUrls(host: CFString, domain: String?) -> CFString {
        let port = OtterStack.relayPort
        let firewall = OtterStack.relayFirewallPort
        let onFirewallPort: CFString = if let domain {
            "turns:\(domain):\(firewall)?transport=tcp"
        } else {
            "turn:\(host):\(firewall)?transport=tcp"
        }
        return "turn:\(host):\(port)?transport=udp,turn:\(host):\(port)?transport=tcp,\(onFirewallPort),stun:\(host):\(port)"
    }

    static func add(to t: inout Template, params: Params, options: OtterStackOptions,
                    turnSecret: Handle<GeneratedSecret>) -> Relay {
        let relayImage = options.relayImage
        let vpc = t.add("RelayVpc", VPC(cidr: "10.42.0.0/16"))
        let igw = t.add("RelayInternetGateway", InternetGateway())
        let attachment = t.add("RelayGatewayAttachment", GatewayAttachment(vpcId: vpc.ref, internetGatewayId: igw.ref))
        let routes = t.add("RelayRouteTable", RouteTable(vpcId: vpc.ref))
        // The default route needs the gateway attached first; CloudFormation cannot see that from the refs.
        let defaultRoute = t.add("RelayDefaultRoute", InternetRoute(routeTableId: routes.ref, gatewayId: igw.ref),
                                 dependsOn: [attachment])
        // Whatever has a public address needs the gateway attached and the route in place
        // (CloudFormation "When a DependsOn attribute is required"): else creating fails with
        // "VPC has no internet gateway" and deleting stalls on "mapped public address(es)".
        let internet: [any LogicallyIdentified] = [attachment, defaultRoute]
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
                // Also what the NLB's TCP and TLS listeners on 443 forward to.
                IngressRule(.tcp, ports: port...port, from: "0.0.0.0/0", "STUN/TURN over TCP, via 443 too (and NLB health checks)"),
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
                name: "relay", image: params.relayImage, command: relayCommand(options).map { CFString(stringLiteral: $0) },
                // One mapping per container port: ECS refuses a load-balanced service whose
                // container maps a port twice ("Container port 3478 is used in more than one port
                // mapping"). With awsvpc the mapping does not open the port, the security group
                // does: TCP 3478 stays reachable. UDP, because the TCP_UDP group's flows are UDP.
                ports: [.init(port: port, protocolName: "udp")],
                secrets: ["TURN_SECRET": turnSecret.arn], logGroup: logs.ref, logPrefix: "relay",
                fileDescriptorLimit: 65536)))

        let nlb = t.add("RelayLoadBalancer", NetworkLoadBalancer(subnets: subnets.map(\.ref)), dependsOn: internet)
        let targets = t.add("RelayTargets", TargetGroup(protocolName: .tcpUDP, port: port, vpcId: vpc.ref,
                                                        deregistrationDelaySeconds: drainSeconds))
        let listener = t.add("RelayListener", Listener(loadBalancerArn: nlb.ref, protocolName: .tcpUDP, port: port,
                                                       targetGroupArn: targets.ref))
        // TURN over TCP on 443 for networks that allow nothing else, to the same container
        // port. Its own TCP group: a TLS listener takes TCP or TLS groups, not TCP_UDP ones.
        let tcpTargets = t.add("RelayTcpTargets", TargetGroup(protocolName: .tcp, port: port, vpcId: vpc.ref,
                                                              deregistrationDelaySeconds: drainSeconds))
        // With a domain, TLS ends here with the ACM certificate and the relay sees plain TCP.
        // One logical ID for both kinds: adding a domain later updates the listener in place
        // (a replacement would be created first, and 443 would already be taken).
        let tls = options.certificateArn.map { Listener.TLS(certificateArn: $0, sslPolicy: tlsPolicy) }
        let firewallListener = t.add("RelayListener443", Listener(
            loadBalancerArn: nlb.ref, protocolName: tls == nil ? .tcp : .tls, port: OtterStack.relayFirewallPort,
            targetGroupArn: tcpTargets.ref, tls: tls))
        // ECS registers tasks in a target group only once a listener uses it.
        let service = t.add("RelayService", FargateService(
            cluster: cluster.ref, taskDefinition: task.ref, desiredCount: params.relayMin.int,
            subnets: subnets.map(\.ref), securityGroups: [group.groupId],
            loadBalancers: [.init(containerName: "relay", containerPort: port, targetGroupArn: targets.ref),
                            .init(containerName: "relay", containerPort: port, targetGroupArn: tcpTargets.ref)]),
            dependsOn: [listener, firewallListener] + internet)

        let scaling = t.add("RelayScalableTarget", ScalableTarget(
            resourceId: "service/\(cluster.ref)/\(service.name)", minCapacity: params.relayMin.int,
            maxCapacity: params.relayMax.int))
        // Only worth a policy when there is room to scale.
        let scales = t.condition("RelayScales", Fn.not(Fn.equals(params.relayMin.int, params.relayMax.int)))
        t.add("RelayCpuScaling", CPUTargetTrackingPolicy(
            name: "\(Pseudo.stackName)-relay-cpu", target: scaling, targetPercent: 70,
            scaleInCooldownSeconds: scaleInCooldownSeconds), condition: scales)

        return Relay(host: nlb.dnsName, cluster: cluster, service: service,
                     turnUrls: turnUrls(host: nlb.dnsName, domain: options.domain))
    }
}
