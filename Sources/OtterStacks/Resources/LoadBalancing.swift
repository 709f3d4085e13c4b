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

/// A TCP_UDP target group of Fargate task IPs, health-checked over TCP.
public struct TargetGroup: Taggable {
    public static let typeName = "AWS::ElasticLoadBalancingV2::TargetGroup"
    public var port: Int
    public var vpcId: CFString
    public init(port: Int, vpcId: CFString) { self.port = port; self.vpcId = vpcId }
    public var properties: JSON {
        props([
            "Protocol": "TCP_UDP", "Port": port, "VpcId": vpcId, "TargetType": "ip",
            "HealthCheckProtocol": "TCP", "HealthCheckPort": "traffic-port",
            "HealthCheckIntervalSeconds": 10, "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2,
            "TargetGroupAttributes": JSON.array([["Key": "deregistration_delay.timeout_seconds", "Value": "30"]]),
        ])
    }
}

public struct Listener: Resource {
    public static let typeName = "AWS::ElasticLoadBalancingV2::Listener"
    public var loadBalancerArn: CFString
    public var port: Int
    public var targetGroupArn: CFString
    public init(loadBalancerArn: CFString, port: Int, targetGroupArn: CFString) {
        self.loadBalancerArn = loadBalancerArn
        self.port = port
        self.targetGroupArn = targetGroupArn
    }
    public var properties: JSON {
        props(["LoadBalancerArn": loadBalancerArn, "Port": port, "Protocol": "TCP_UDP",
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
    public init(name: CFString, target: Handle<ScalableTarget>, targetPercent: Int) {
        self.name = name
        self.target = target
        self.targetPercent = targetPercent
    }
    public var properties: JSON {
        props([
            "PolicyName": name, "PolicyType": "TargetTrackingScaling", "ScalingTargetId": target.ref,
            "TargetTrackingScalingPolicyConfiguration": props([
                "TargetValue": targetPercent,
                "PredefinedMetricSpecification": ["PredefinedMetricType": "ECSServiceAverageCPUUtilization"],
                // Out fast, in slowly: scaling in ends the allocations on the removed task.
                "ScaleOutCooldown": 60, "ScaleInCooldown": 300,
            ]),
        ])
    }
}
