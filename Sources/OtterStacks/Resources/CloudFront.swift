public struct OriginAccessControl: Resource {
    public static let typeName = "AWS::CloudFront::OriginAccessControl"
    public var name: CFString
    public var description: String
    public init(name: CFString, description: String) { self.name = name; self.description = description }
    public var properties: JSON {
        ["OriginAccessControlConfig": props([
            "Name": name, "Description": description, "OriginAccessControlOriginType": "s3",
            "SigningBehavior": "always", "SigningProtocol": "sigv4",
        ])]
    }
}

extension Handle where R == OriginAccessControl {
    public var id: CFString { getAtt("Id") }
}

public struct ResponseHeadersPolicy: Resource {
    public static let typeName = "AWS::CloudFront::ResponseHeadersPolicy"
    public var name: CFString
    public var contentSecurityPolicy: CFString
    public var permissionsPolicy: String
    public var hstsMaxAgeSeconds: Int
    public init(name: CFString, contentSecurityPolicy: CFString, permissionsPolicy: String, hstsMaxAgeSeconds: Int) {
        self.name = name
        self.contentSecurityPolicy = contentSecurityPolicy
        self.permissionsPolicy = permissionsPolicy
        self.hstsMaxAgeSeconds = hstsMaxAgeSeconds
    }
    public var properties: JSON {
        ["ResponseHeadersPolicyConfig": props([
            "Name": name,
            "SecurityHeadersConfig": props([
                "StrictTransportSecurity": props(["AccessControlMaxAgeSec": hstsMaxAgeSeconds, "IncludeSubdomains": true,
                                                  "Override": true]),
                "ContentSecurityPolicy": props(["ContentSecurityPolicy": contentSecurityPolicy, "Override": true]),
                "ContentTypeOptions": props(["Override": true]),
                "FrameOptions": props(["FrameOption": "DENY", "Override": true]),
                "ReferrerPolicy": props(["ReferrerPolicy": "no-referrer", "Override": true]),
            ]),
            "CustomHeadersConfig": ["Items": [props(["Header": "Permissions-Policy", "Value": permissionsPolicy,
                                                     "Override": true])]],
        ])]
    }
}

/// A distribution in front of one private S3 origin, HTTPS only.
public struct S3Distribution: Taggable {
    public static let typeName = "AWS::CloudFront::Distribution"
    /// AWS's managed "CachingOptimized" cache policy.
    public static let cachingOptimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    public var comment: CFString
    public var bucketDomainName: CFString
    public var originAccessControlId: CFString
    public var responseHeadersPolicyId: CFString
    public var defaultRootObject: String
    public init(comment: CFString, bucketDomainName: CFString, originAccessControlId: CFString,
                responseHeadersPolicyId: CFString, defaultRootObject: String) {
        self.comment = comment
        self.bucketDomainName = bucketDomainName
        self.originAccessControlId = originAccessControlId
        self.responseHeadersPolicyId = responseHeadersPolicyId
        self.defaultRootObject = defaultRootObject
    }
    public var properties: JSON {
        ["DistributionConfig": props([
            "Comment": comment, "Enabled": true, "DefaultRootObject": defaultRootObject,
            "HttpVersion": "http2and3", "IPV6Enabled": true, "PriceClass": "PriceClass_100",
            "Origins": JSON.array([props([
                "Id": "site", "DomainName": bucketDomainName, "OriginAccessControlId": originAccessControlId,
                // Empty OAI: access goes through the origin access control above.
                "S3OriginConfig": ["OriginAccessIdentity": ""],
            ])]),
            "DefaultCacheBehavior": props([
                "TargetOriginId": "site", "ViewerProtocolPolicy": "https-only", "Compress": true,
                "AllowedMethods": ["GET", "HEAD"], "CachedMethods": ["GET", "HEAD"],
                "CachePolicyId": S3Distribution.cachingOptimized, "ResponseHeadersPolicyId": responseHeadersPolicyId,
            ]),
            "ViewerCertificate": ["CloudFrontDefaultCertificate": true],
        ])]
    }
}

extension Handle where R == S3Distribution {
    public var domainName: CFString { getAtt("DomainName") }
}
