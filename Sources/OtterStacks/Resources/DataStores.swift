/// An on-demand DynamoDB table with string keys, encrypted, with point-in-time recovery.
public struct DynamoDBTable: Taggable {
    public static let typeName = "AWS::DynamoDB::Table"
    public struct Index: Sendable {
        public var name: String
        public var hashKey: String
        public init(name: String, hashKey: String) { self.name = name; self.hashKey = hashKey }
    }
    public var hashKey: String
    public var indexes: [Index]
    /// Attribute holding an epoch-seconds expiry that DynamoDB deletes after.
    public var ttlAttribute: String?

    public init(hashKey: String, indexes: [Index] = [], ttlAttribute: String? = nil) {
        self.hashKey = hashKey
        self.indexes = indexes
        self.ttlAttribute = ttlAttribute
    }

    public var properties: JSON {
        var keys = [hashKey]
        for i in indexes where !keys.contains(i.hashKey) { keys.append(i.hashKey) }
        return props([
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": JSON.array(keys.map { ["AttributeName": .string($0), "AttributeType": "S"] }),
            "KeySchema": JSON.array([["AttributeName": .string(hashKey), "KeyType": "HASH"]]),
            "GlobalSecondaryIndexes": indexes.isEmpty ? nil : JSON.array(indexes.map {
                ["IndexName": .string($0.name),
                 "KeySchema": [["AttributeName": .string($0.hashKey), "KeyType": "HASH"]],
                 "Projection": ["ProjectionType": "ALL"]]
            }),
            "TimeToLiveSpecification": ttlAttribute.map { JSON.object(["AttributeName": .string($0), "Enabled": true]) },
            "SSESpecification": JSON.object(["SSEEnabled": true]),
            // Restorable to any second of the last 35 days (the config table holds the API key
            // hash). Billed by table size, which stays small: rooms and connections expire.
            "PointInTimeRecoverySpecification": JSON.object(["PointInTimeRecoveryEnabled": true]),
        ])
    }
}

extension Handle where R == DynamoDBTable {
    public var arn: CFString { getAtt("Arn") }
    public func indexArn(_ name: String) -> CFString { "\(arn)/index/\(name)" }
}

/// A secret whose value CloudFormation generates: it never passes through a
/// parameter, an output or the deploying machine.
public struct GeneratedSecret: Taggable {
    public static let typeName = "AWS::SecretsManager::Secret"
    public var description: String
    public var length: Int
    public init(description: String, length: Int) { self.description = description; self.length = length }
    public var properties: JSON {
        props([
            "Description": description,
            "GenerateSecretString": props([
                "PasswordLength": length, "ExcludePunctuation": true, "IncludeSpace": false,
            ]),
        ])
    }
}

extension Handle where R == GeneratedSecret {
    /// `Ref` of a secret is its ARN.
    public var arn: CFString { ref }
}

/// A private S3 bucket: all public access blocked, owner-enforced objects, SSE-S3.
public struct PrivateBucket: Taggable {
    public static let typeName = "AWS::S3::Bucket"
    public init() {}
    public var properties: JSON {
        props([
            "PublicAccessBlockConfiguration": props([
                "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
            ]),
            "OwnershipControls": ["Rules": [["ObjectOwnership": "BucketOwnerEnforced"]]],
            "BucketEncryption": ["ServerSideEncryptionConfiguration": [["ServerSideEncryptionByDefault": ["SSEAlgorithm": "AES256"]]]],
        ])
    }
}

extension Handle where R == PrivateBucket {
    public var arn: CFString { getAtt("Arn") }
    public var regionalDomainName: CFString { getAtt("RegionalDomainName") }
}

public struct BucketPolicy: Resource {
    public static let typeName = "AWS::S3::BucketPolicy"
    public var bucket: CFString
    public var document: PolicyDocument
    public init(bucket: CFString, document: PolicyDocument) { self.bucket = bucket; self.document = document }
    public var properties: JSON { props(["Bucket": bucket, "PolicyDocument": document]) }
}
