import Foundation

/// What the client needs to know about a service: its signing name, the
/// suffix of its `AWS_ENDPOINT_URL_<SERVICE>` variable, and its wire protocol.
public struct AWSService: Sendable, Equatable {
    public enum WireProtocol: Sendable, Equatable {
        case query(version: String), restXML
        /// AWS JSON 1.0 (DynamoDB) or 1.1 (ECR): the same shape, a different Content-Type.
        case json(targetPrefix: String, version: String)
    }

    /// Name shown in errors, e.g. "CloudFormation".
    public var displayName: String
    public var signingName: String
    public var environmentSuffix: String
    public var wireProtocol: WireProtocol
    /// Global services sign with a fixed region regardless of the configured one.
    public var globalSigningRegion: String?

    public static let sts = AWSService(displayName: "STS", signingName: "sts", environmentSuffix: "STS", wireProtocol: .query(version: "2011-06-15"))
    public static let iam = AWSService(displayName: "IAM", signingName: "iam", environmentSuffix: "IAM", wireProtocol: .query(version: "2010-05-08"), globalSigningRegion: "us-east-1")
    public static let cloudFormation = AWSService(displayName: "CloudFormation", signingName: "cloudformation", environmentSuffix: "CLOUDFORMATION", wireProtocol: .query(version: "2010-05-15"))
    public static let s3 = AWSService(displayName: "S3", signingName: "s3", environmentSuffix: "S3", wireProtocol: .restXML)
    public static let cloudFront = AWSService(displayName: "CloudFront", signingName: "cloudfront", environmentSuffix: "CLOUDFRONT", wireProtocol: .restXML, globalSigningRegion: "us-east-1")
    public static let dynamoDB = AWSService(displayName: "DynamoDB", signingName: "dynamodb", environmentSuffix: "DYNAMODB", wireProtocol: .json(targetPrefix: "DynamoDB_20120810", version: "1.0"))
    /// ECR's control plane (api.ecr.<region>), not the registry (<account>.dkr.ecr.<region>) images are pushed to.
    public static let ecr = AWSService(displayName: "ECR", signingName: "ecr", environmentSuffix: "ECR", wireProtocol: .json(targetPrefix: "AmazonEC2ContainerRegistry_V20150921", version: "1.1"))
    public static let ec2 = AWSService(displayName: "EC2", signingName: "ec2", environmentSuffix: "EC2", wireProtocol: .query(version: "2016-11-15"))

    func signingRegion(configured: String) -> String { globalSigningRegion ?? configured }

    func defaultEndpoint(region: String) -> URL {
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        switch signingName {
        case "cloudfront": return URL(string: "https://cloudfront.amazonaws.com")!
        case "iam": return URL(string: "https://iam.amazonaws.com")!
        // https://docs.aws.amazon.com/general/latest/gr/ecr.html: the API endpoint is api.ecr.<region>.
        case "ecr": return URL(string: "https://api.ecr.\(region).\(suffix)")!
        default: return URL(string: "https://\(signingName).\(region).\(suffix)")!
        }
    }
}
