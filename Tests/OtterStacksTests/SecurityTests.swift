import Testing
@testable import OtterStacks

@Suite struct SecurityTests {
    @Test(arguments: StackVariants.all) func templateBreaksNoRule(options: OtterStackOptions) throws {
        let walker = PolicyWalker(template: try OtterStack.template(options).json)
        #expect(walker.violations() == [])
    }

    /// The walker must find what it looks for, or the test above proves nothing.
    @Test func walkerFindsEachKindOfViolation() throws {
        var json = try OtterStack.template(OtterStackOptions()).json
        guard case .object(var root) = json, case .object(var resources)? = root["Resources"] else {
            Issue.record("no resources")
            return
        }
        resources["BadRole"] = ["Type": "AWS::IAM::Role", "Properties": ["Policies": [["PolicyName": "x", "PolicyDocument": [
            "Statement": [
                ["Effect": "Allow", "Action": "dynamodb:*", "Resource": ["Fn::GetAtt": ["RoomsTable", "Arn"]]],
                ["Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"],
            ]]]]]]
        resources["BadPolicy"] = ["Type": "AWS::S3::BucketPolicy", "Properties": ["PolicyDocument": ["Statement": [
            ["Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"],
            ["Effect": "Allow", "Principal": ["Service": "cloudfront.amazonaws.com"], "Action": "s3:PutObject",
             "Resource": "arn:aws:s3:::b/*"],
        ]]]]
        root["Resources"] = .object(resources)
        var outputs = root["Outputs"]?.object ?? [:]
        outputs["Leak"] = ["Value": ["Fn::Sub": "${TurnSecret}"]]
        root["Outputs"] = .object(outputs)
        json = .object(root)

        let found = PolicyWalker(template: json).violations()
        #expect(found.contains("BadRole: wildcard action dynamodb:*"))
        #expect(found.contains("BadRole: s3:GetObject on Resource \"*\" although it accepts a narrower resource"))
        #expect(found.contains("BadPolicy: bucket policy with a \"*\" principal"))
        #expect(found.contains("BadPolicy: CloudFront principal without an AWS:SourceArn condition"))
        #expect(found.contains("BadPolicy: bucket policy allows s3:PutObject (only reads by CloudFront are expected)"))
        #expect(found.contains("output Leak references secret TurnSecret"))
    }

    @Test func secretsAreGeneratedAndOnlyPassedAsArns() throws {
        let json = try OtterStack.template(OtterStackOptions()).json
        let resources = json["Resources"]!.object!
        for id in ["SigningSecret", "TurnSecret"] {
            #expect(resources[id]?["Properties"]?["GenerateSecretString"] != nil)
            #expect(resources[id]?["Properties"]?["SecretString"] == nil)
        }
        // Lambdas get secret ARNs only in *_SECRET_ARN variables; the relay gets the TURN secret through ECS Secrets.
        for (id, r) in resources where r["Type"]?.string == "AWS::Lambda::Function" {
            for (name, value) in r["Properties"]?["Environment"]?["Variables"]?.object ?? [:] {
                let refs = PolicyWalker(template: json).referencedNames(value)
                if refs.contains("SigningSecret") || refs.contains("TurnSecret") {
                    #expect(name.hasSuffix("_SECRET_ARN"), "\(id) \(name)")
                }
            }
        }
        let container = resources["RelayTask"]!["Properties"]!["ContainerDefinitions"]!.array![0]
        #expect(container["Secrets"] == [["Name": "TURN_SECRET", "ValueFrom": ["Ref": "TurnSecret"]]])
        #expect(container["Environment"] == nil)
        // No parameter can smuggle a secret in through a default.
        for (name, p) in json["Parameters"]!.object! {
            #expect(!name.lowercased().contains("secret"), "\(name)")
            #expect(p["NoEcho"] == nil)
        }
    }

    @Test func siteBucketIsPrivate() throws {
        let bucket = try OtterStack.template(OtterStackOptions()).json["Resources"]!["SiteBucket"]!["Properties"]!
        #expect(bucket["PublicAccessBlockConfiguration"] == [
            "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
        ])
        #expect(bucket["WebsiteConfiguration"] == nil)
        #expect(bucket["AccessControl"] == nil)
    }
}

extension OtterStackOptions: CustomTestStringConvertible {
    public var testDescription: String {
        "\(stackName) peers=\(maxPeers) image=\(relayImage) relay=\(relayMinTasks)-\(relayMaxTasks)"
            + " quotas=\(relayUserQuota)/\(relayTotalQuota)/\(relayMaxBps)" + (domain.map { " domain=\($0)" } ?? "")
    }
}
