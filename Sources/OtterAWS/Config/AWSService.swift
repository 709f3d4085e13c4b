import Foundation

/// What the client needs to know about a service: its signing name, the
/// suffix of its `AWS_ENDPOINT_URL_<SERVICE>` variable, and its wire protocol.
public struct AWSService: Sendable, Equatable {
    public enum WireProtocol: Sendable, Equatable { case query(version: String), restXML, json(targetPrefix: String) }

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
    public static let dynamoDB = AWSService(displayName: "DynamoDB", signingName: "dynamodb", environmentSuffix: "DYNAMODB", wireProtocol: .json(targetPrefix: "DynamoDB_20120810"))
    public static let ec2 = AWSService(displayName: "EC2", signingName: "ec2", environmentSuffix: "EC2", wireProtocol: .query(version: "2016-11-15"))

    func signingRegion(configured: String) -> String { globalSigningRegion ?? configured }

    func defaultEndpoint(region: String) -> URL {
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        switch signingName {
        case "cloudfront": return URL(string: "https://cloudfront.amazonaws.com")!
        case "iam": return URL(string: "https://iam.amazonaws.com")!
        default: return URL(string: "https://\(signingName).\(region).\(suffix)")!
        }
    }
}
