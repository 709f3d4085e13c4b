public struct VPC: Taggable {
    public static let typeName = "AWS::EC2::VPC"
    public var cidr: String
    public init(cidr: String) { self.cidr = cidr }
    public var properties: JSON { props(["CidrBlock": cidr, "EnableDnsSupport": true, "EnableDnsHostnames": true]) }
}

public struct Subnet: Taggable {
    public static let typeName = "AWS::EC2::Subnet"
    public var vpcId: CFString
    public var cidr: String
    public var availabilityZone: CFString
    /// Fargate tasks in a public subnet still need `AssignPublicIp`; this covers anything else launched here.
    public var mapPublicIpOnLaunch: Bool
    public init(vpcId: CFString, cidr: String, availabilityZone: CFString, mapPublicIpOnLaunch: Bool) {
        self.vpcId = vpcId
        self.cidr = cidr
        self.availabilityZone = availabilityZone
        self.mapPublicIpOnLaunch = mapPublicIpOnLaunch
    }
    public var properties: JSON {
        props(["VpcId": vpcId, "CidrBlock": cidr, "AvailabilityZone": availabilityZone,
               "MapPublicIpOnLaunch": mapPublicIpOnLaunch])
    }
}

public struct InternetGateway: Taggable {
    public static let typeName = "AWS::EC2::InternetGateway"
    public init() {}
    public var properties: JSON { .object([:]) }
}

public struct GatewayAttachment: Resource {
    public static let typeName = "AWS::EC2::VPCGatewayAttachment"
    public var vpcId: CFString
    public var internetGatewayId: CFString
    public init(vpcId: CFString, internetGatewayId: CFString) { self.vpcId = vpcId; self.internetGatewayId = internetGatewayId }
    public var properties: JSON { props(["VpcId": vpcId, "InternetGatewayId": internetGatewayId]) }
}

public struct RouteTable: Taggable {
    public static let typeName = "AWS::EC2::RouteTable"
    public var vpcId: CFString
    public init(vpcId: CFString) { self.vpcId = vpcId }
    public var properties: JSON { props(["VpcId": vpcId]) }
}

public struct InternetRoute: Resource {
    public static let typeName = "AWS::EC2::Route"
    public var routeTableId: CFString
    public var gatewayId: CFString
    public init(routeTableId: CFString, gatewayId: CFString) { self.routeTableId = routeTableId; self.gatewayId = gatewayId }
    public var properties: JSON {
        props(["RouteTableId": routeTableId, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": gatewayId])
    }
}

public struct SubnetRouteTableAssociation: Resource {
    public static let typeName = "AWS::EC2::SubnetRouteTableAssociation"
    public var subnetId: CFString
    public var routeTableId: CFString
    public init(subnetId: CFString, routeTableId: CFString) { self.subnetId = subnetId; self.routeTableId = routeTableId }
    public var properties: JSON { props(["SubnetId": subnetId, "RouteTableId": routeTableId]) }
}

public struct IngressRule: JSONRepresentable {
    public enum IPProtocol: String, Sendable { case udp, tcp }
    public var ipProtocol: IPProtocol
    public var fromPort: Int
    public var toPort: Int
    public var cidr: String
    public var description: String
    public init(_ ipProtocol: IPProtocol, ports: ClosedRange<Int>, from cidr: String, _ description: String) {
        self.ipProtocol = ipProtocol
        self.fromPort = ports.lowerBound
        self.toPort = ports.upperBound
        self.cidr = cidr
        self.description = description
    }
    public var json: JSON {
        props(["IpProtocol": ipProtocol.rawValue, "FromPort": fromPort, "ToPort": toPort, "CidrIp": cidr,
               "Description": description])
    }
}

public struct SecurityGroup: Taggable {
    public static let typeName = "AWS::EC2::SecurityGroup"
    public var description: String
    public var vpcId: CFString
    public var ingress: [IngressRule]
    public init(description: String, vpcId: CFString, ingress: [IngressRule]) {
        self.description = description
        self.vpcId = vpcId
        self.ingress = ingress
    }
    public var properties: JSON {
        props(["GroupDescription": description, "VpcId": vpcId, "SecurityGroupIngress": ingress])
    }
}

extension Handle where R == SecurityGroup {
    public var groupId: CFString { getAtt("GroupId") }
}
