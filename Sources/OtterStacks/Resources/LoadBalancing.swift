public struct NetworkLoadBalancer: Taggable {
    public static let typeName = "AWS::ElasticLoadBalancingV2::LoadBalancer"
    public var subnets: [CFString]
    public init(subnets: [CFString]) { self.subnets = subnets }
    public var properties: JSON {
        props([
            "Type": "network", "Scheme": "internet-facing", "IpAddressType": "ipv4", "Subnets": subnets,
            "LoadBalancerAttributes": JSON.array([["Key": "load_balancing.cross_zone.enabled", "Value": "true"]]),
        ])
    }
}

extension Handle where R == NetworkLoadBalancer {
    public var dnsName: CFString { getAtt("DNSName") }
}

/// Protocols of a network load balancer's listeners and target groups.
public enum NLBProtocol: String, Sendable { case tcp = "TCP", udp = "UDP", tcpUDP = "TCP_UDP", tls = "TLS" }

/// A target group of Fargate task IPs, health-checked over TCP (NLB health checks
/// cannot use UDP).
public struct TargetGroup: Taggable {
    public static let typeName = "AWS::ElasticLoadBalancingV2::TargetGroup"
    public var protocolName: NLBProtocol
    public var port: Int
    public var vpcId: CFString
    /// How long a deregistering target keeps the flows it already has (new ones go elsewhere).
    public var deregistrationDelaySeconds: Int
    public init(protocolName: NLBProtocol, port: Int, vpcId: CFString, deregistrationDelaySeconds: Int) {
        self.protocolName = protocolName
        self.port = port
        self.vpcId = vpcId
        self.deregistrationDelaySeconds = deregistrationDelaySeconds
    }
    public var properties: JSON {
        props([
            "Protocol": protocolName.rawValue, "Port": port, "VpcId": vpcId, "TargetType": "ip",
            "HealthCheckProtocol": "TCP", "HealthCheckPort": "traffic-port",
            "HealthCheckIntervalSeconds": 10, "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2,
            "TargetGroupAttributes": JSON.array([
                ["Key": "deregistration_delay.timeout_seconds", "Value": .string(String(deregistrationDelaySeconds))],
                // UDP and TCP_UDP groups default to true: the NLB would cut the flows itself when
                // the delay ends. False leaves them to the client, the target and the task's stop.
                ["Key": "deregistration_delay.connection_termination.enabled", "Value": "false"],
            ]),
        ])
    }
}

/// A listener forwarding everything to one target group. A TLS listener ends TLS
/// with an ACM certificate and forwards plain TCP.
public struct Listener: Resource {
    public static let typeName = "AWS::ElasticLoadBalancingV2::Listener"
    public struct TLS: Sendable {
        public var certificateArn: String
        public var sslPolicy: String
        public init(certificateArn: String, sslPolicy: String) {
            self.certificateArn = certificateArn
            self.sslPolicy = sslPolicy
        }
    }
    public var loadBalancerArn: CFString
    public var protocolName: NLBProtocol
    public var port: Int
    public var targetGroupArn: CFString
    /// Required when `protocolName` is `.tls`, absent otherwise.
    public var tls: TLS?
    public init(loadBalancerArn: CFString, protocolName: NLBProtocol, port: Int, targetGroupArn: CFString, tls: TLS? = nil) {
        precondition((protocolName == .tls) == (tls != nil), "a TLS listener needs a certificate, others none")
        self.loadBalancerArn = loadBalancerArn
        self.protocolName = protocolName
        self.port = port
        self.targetGroupArn = targetGroupArn
        self.tls = tls
    }
    public var properties: JSON {
        props(["LoadBalancerArn": loadBalancerArn, "Port": port, "Protocol": protocolName.rawValue,
               "Certificates": tls.map { JSON.array([["CertificateArn": .string($0.certificateArn)]]) },
               "SslPolicy": tls?.sslPolicy,
               "DefaultActions": JSON.array([props(["Type": "forward", "TargetGroupArn": targetGroupArn])])])
    }
}

/// The desired count of an ECS service, between min and max.
public struct ScalableTarget: Resource {
    public static let typeName = "AWS::ApplicationAutoScaling::ScalableTarget"
    public var resourceId: CFString
    public var minCapacity: CFInt
    public var maxCapacity: CFInt
    public init(resourceId: CFString, minCapacity: CFInt, maxCapacity: CFInt) {
        self.resourceId = resourceId
        self.minCapacity = minCapacity
        self.maxCapacity = maxCapacity
    }
    public var properties: JSON {
        props(["ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount", "ResourceId": resourceId,
               "MinCapacity": minCapacity, "MaxCapacity": maxCapacity])
    }
}

/// Target tracking on the service's average CPU.
public struct CPUTargetTrackingPolicy: Resource {
    public static let typeName = "AWS::ApplicationAutoScaling::ScalingPolicy"
    public var name: CFString
    public var target: Handle<ScalableTarget>
    public var targetPercent: Int
    public var scaleInCooldownSeconds: Int
    public init(name: CFString, target: Handle<ScalableTarget>, targetPercent: Int, scaleInCooldownSeconds: Int) {
        self.name = name
        self.target = target
        self.targetPercent = targetPercent
        self.scaleInCooldownSeconds = scaleInCooldownSeconds
    }
    public var properties: JSON {
        props([
            "PolicyName": name, "PolicyType": "TargetTrackingScaling", "ScalingTargetId": target.ref,
            "TargetTrackingScalingPolicyConfiguration": props([
                "TargetValue": targetPercent,
                "PredefinedMetricSpecification": ["PredefinedMetricType": "ECSServiceAverageCPUUtilization"],
                // Out fast, in slowly: scaling in removes a task and, after its target's
                // deregistration delay, the calls it still relays.
                "ScaleOutCooldown": 60, "ScaleInCooldown": scaleInCooldownSeconds,
            ]),
        ])
    }
}
