import Foundation
import Testing
@testable import OtterAWS

/// Every client call against a real moto server that checks signatures.
@Suite(.serialized)
struct MotoClientTests {
    static let template = """
    {"AWSTemplateFormatVersion":"2010-09-09","Parameters":{"Name":{"Type":"String","Default":"a"}},
     "Resources":{"Queue":{"Type":"AWS::SQS::Queue","Properties":{"QueueName":{"Ref":"Name"}}}},
     "Outputs":{"QueueName":{"Value":{"Fn::GetAtt":["Queue","QueueName"]}},"Echo":{"Value":{"Ref":"Name"}}}}
    """

    /// The same stack plus a topic: a change set between the two has one Add.
    static var templateWithTopic: String {
        template.replacingOccurrences(of: #""Resources":{"#, with: #""Resources":{"Topic":{"Type":"AWS::SNS::Topic"},"#)
    }

    @Test func stsWithRightAndWrongSecret() async throws {
        let moto = try await MotoServer()
        let id = try await STS(client: moto.client()).getCallerIdentity()
        #expect(id.account == "123456789012")
        #expect(id.arn.hasSuffix("user/otter-test"))

        let e = await #expect(throws: AWSError.self) { try await STS(client: moto.client(secret: "wrong")).getCallerIdentity() }
        #expect(e?.serviceCode == "SignatureDoesNotMatch")
        #expect(e?.isAuthenticationFailure == true)
        #expect(e?.description.hasPrefix("STS: SignatureDoesNotMatch: ") == true)
    }

    @Test func cloudFormationLifecycle() async throws {
        let moto = try await MotoServer()
        let cfn = CloudFormation(client: moto.client(region: "eu-west-1"))

        #expect(try await cfn.describeStack(name: "nope") == nil)
        let id = try await cfn.createStack(name: "s1", template: .body(Self.template), parameters: ["Name": "q1"], tags: ["otter:stack": "s1"])
        #expect(id.contains("stack/s1"))
        let stack = try #require(try await cfn.describeStack(name: "s1"))
        #expect(stack.status == "CREATE_COMPLETE")
        #expect(stack.outputs["QueueName"] == "q1")
        #expect(stack.tags["otter:stack"] == "s1")
        let events = try await cfn.describeStackEvents(name: "s1")
        // moto records stack-level events only.
        #expect(events.contains { $0.logicalID == "s1" && $0.status == "CREATE_COMPLETE" && $0.resourceType == "AWS::CloudFormation::Stack" })

        _ = try await cfn.updateStack(name: "s1", template: .body(Self.template), parameters: ["Name": "q2"])
        let updated = try await cfn.describeStack(name: "s1")
        #expect(updated?.status == "UPDATE_COMPLETE")
        #expect(updated?.outputs["Echo"] == "q2")
        #expect(updated?.parameters["Name"] == "q2")

        let cs = try await cfn.createChangeSet(stackName: "s1", changeSetName: "cs1", template: .body(Self.templateWithTopic), parameters: ["Name": "q2"], create: false)
        #expect(!cs.id.isEmpty)
        let described = try await cfn.describeChangeSet(stackName: "s1", changeSetName: "cs1")
        #expect(described.changes.contains { $0.logicalID == "Topic" && $0.resourceType == "AWS::SNS::Topic" && $0.action == "Add" }, "\(described)")
        #expect(described.executionStatus == "AVAILABLE")
        try await cfn.executeChangeSet(stackName: "s1", changeSetName: "cs1")
        #expect(try await cfn.describeChangeSet(stackName: "s1", changeSetName: "cs1").executionStatus == "EXECUTE_COMPLETE")

        _ = try await cfn.createChangeSet(stackName: "s1", changeSetName: "cs2", template: .body(Self.template), parameters: ["Name": "q4"], create: false)
        try await cfn.deleteChangeSet(stackName: "s1", changeSetName: "cs2")

        let created = try await cfn.createChangeSet(stackName: "s2", changeSetName: "c", template: .body(Self.template), create: true)
        #expect(created.stackID.contains("stack/s2"))

        try await cfn.deleteStack(name: "s1")
        let after = try await cfn.describeStack(name: "s1")
        #expect(after == nil || after?.status == "DELETE_COMPLETE")

        let e = await #expect(throws: AWSError.self) {
            try await CloudFormation(client: moto.client(secret: "bad", region: "eu-west-1")).createStack(name: "x", template: .body(Self.template))
        }
        #expect(e?.description.hasPrefix("CloudFormation: SignatureDoesNotMatch") == true)
    }

    @Test func s3ObjectsVersionsAndBatchDelete() async throws {
        let moto = try await MotoServer()
        let s3 = S3(client: moto.client())
        #expect(try await s3.headBucket("otter-site") == false)
        try await s3.createBucket("otter-site")
        #expect(try await s3.headBucket("otter-site"))
        try await s3.putBucketTagging("otter-site", tags: ["otter:stack": "t"])
        #expect(try await s3.getBucketTagging("otter-site")["otter:stack"] == "t")

        try await s3.putObject(bucket: "otter-site", key: "index.html", body: Array("<h1>hi</h1>".utf8), contentType: "text/html", cacheControl: "no-cache")
        let got = try await s3.getObject(bucket: "otter-site", key: "index.html")
        #expect(got.bodyText == "<h1>hi</h1>")
        #expect(got.header("Content-Type") == "text/html")
        #expect(got.header("Cache-Control") == "no-cache")

        // 45 objects deleted 20 per batch exercise the batching of AWS's 1,000-key
        // limit. Listing is one page here: moto refuses the signature of a listing
        // that carries max-keys (boto3's too), and 1,000+ uploads to reach its
        // default page size left moto hanging on this machine.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<3 {
                group.addTask {
                    for i in stride(from: worker, to: 45, by: 3) {
                        try await s3.putObject(bucket: "otter-site", key: "assets/f\(i).js", body: Array("f\(i)".utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
        // No prefix: moto checks the signature of `prefix=assets%2F` against a decoded
        // slash and refuses it (boto3's request too); a prefix without "/" is fine.
        let listed = try await s3.listObjectsV2(bucket: "otter-site")
        #expect(listed.count == 46)
        #expect(listed.filter { $0.key.hasPrefix("assets/") }.count == 45)
        #expect(try await s3.listObjectsV2(bucket: "otter-site", prefix: "index").map(\.key) == ["index.html"])

        let versions = try await s3.listObjectVersions(bucket: "otter-site")
        #expect(versions.count == 46)
        #expect(Set(versions.map(\.key)).count == 46)
        try await s3.deleteObjects(bucket: "otter-site", versions, batchSize: 20)
        #expect(try await s3.listObjectsV2(bucket: "otter-site").isEmpty)
        try await s3.deleteBucket("otter-site")
        #expect(try await s3.headBucket("otter-site") == false)

        let e = await #expect(throws: AWSError.self) { try await S3(client: moto.client(secret: "bad")).createBucket("other") }
        #expect(e?.serviceCode == "SignatureDoesNotMatch")
    }

    @Test func cloudFrontInvalidation() async throws {
        let moto = try await MotoServer()
        // moto creates distributions only through its own API; create one with IAM-free raw XML.
        let client = moto.client()
        let config = """
        <?xml version="1.0" encoding="UTF-8"?>
        <DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><CallerReference>t1</CallerReference><Comment>x</Comment><Enabled>true</Enabled>
        <Origins><Quantity>1</Quantity><Items><Origin><Id>o1</Id><DomainName>example-bucket.s3.amazonaws.com</DomainName><S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins>
        <DefaultCacheBehavior><TargetOriginId>o1</TargetOriginId><ViewerProtocolPolicy>redirect-to-https</ViewerProtocolPolicy><MinTTL>0</MinTTL></DefaultCacheBehavior></DistributionConfig>
        """
        let r = try await client.send(.cloudFront, method: "POST", path: "/2020-05-31/distribution", headers: [("Content-Type", "application/xml")], body: Array(config.utf8))
        let distID = try #require(try XMLNode.parse(r.body).string("Id"))
        let inv = try await CloudFront(client: client).createInvalidation(distributionID: distID, paths: ["/index.html", "/config.js"])
        #expect(!inv.isEmpty)
        let e = await #expect(throws: AWSError.self) {
            try await CloudFront(client: client).createInvalidation(distributionID: "ENOPE", paths: ["/*"])
        }
        #expect(e?.serviceCode == "NoSuchDistribution")
    }
}
