import Testing
@testable import OtterStacks

@Suite struct OptionsTests {
    @Test(arguments: [
        (OtterStackOptions(stackName: "1otter"), "--stack"),
        (OtterStackOptions(stackName: "ot_ter"), "--stack"),
        (OtterStackOptions(stackName: ""), "--stack"),
        (OtterStackOptions(maxPeers: 1), "--max-peers"),
        (OtterStackOptions(maxPeers: 5), "--max-peers"),
        (OtterStackOptions(stackName: "up"), "--stack up is reserved"),
        (OtterStackOptions(stackName: "Up"), "--stack up is reserved"),
        (OtterStackOptions(relayImage: "a b"), "--relay-image"),
        (OtterStackOptions(relayImage: ""), "--relay-image"),
        (OtterStackOptions(relayMinTasks: 0), "--relay-min"),
        (OtterStackOptions(relayMaxTasks: 21), "--relay-max"),
        (OtterStackOptions(relayMinTasks: 5, relayMaxTasks: 4), "--relay-min (5) must not be above --relay-max (4)"),
        (OtterStackOptions(relayUserQuota: 0), "--relay-user-quota must be from 1 to 10000"),
        (OtterStackOptions(relayUserQuota: 10_001, relayTotalQuota: 100_000), "--relay-user-quota must be from 1 to 10000"),
        (OtterStackOptions(relayTotalQuota: 0), "--relay-total-quota must be from 1 to 100000"),
        (OtterStackOptions(relayTotalQuota: 100_001), "--relay-total-quota must be from 1 to 100000"),
        (OtterStackOptions(relayUserQuota: 64, relayTotalQuota: 32), "--relay-user-quota (64) must not be above --relay-total-quota (32)"),
        (OtterStackOptions(relayMaxBps: 0), "--relay-max-bps must be from 16000 to 12500000"),
        (OtterStackOptions(relayMaxBps: 15_999), "--relay-max-bps must be from 16000"),
        (OtterStackOptions(relayMaxBps: 12_500_001), "--relay-max-bps must be from 16000 to 12500000"),
        (OtterStackOptions(domain: "turn.example.com"), "--domain and --certificate-arn go together"),
        (OtterStackOptions(certificateArn: StackVariants.certificateArn), "--domain and --certificate-arn go together"),
        (OtterStackOptions(domain: "localhost", certificateArn: StackVariants.certificateArn), "--domain must be a host name"),
        (OtterStackOptions(domain: "turn.example.com.", certificateArn: StackVariants.certificateArn), "--domain must be a host name"),
        (OtterStackOptions(domain: "-turn.example.com", certificateArn: StackVariants.certificateArn), "--domain must be a host name"),
        (OtterStackOptions(domain: "turn_1.example.com", certificateArn: StackVariants.certificateArn), "--domain must be a host name"),
        (OtterStackOptions(domain: "https://turn.example.com", certificateArn: StackVariants.certificateArn), "--domain must be a host name"),
        (OtterStackOptions(domain: "10.0.0.1", certificateArn: StackVariants.certificateArn), "--domain must be a host name"),
        (OtterStackOptions(domain: "turn.example.com", certificateArn: "arn:aws:iam::123456789012:server-certificate/turn"),
         "--certificate-arn must be an ACM certificate ARN"),
        (OtterStackOptions(domain: "turn.example.com", certificateArn: "arn:aws:acm:eu-west-1:12345:certificate/abc"),
         "--certificate-arn must be an ACM certificate ARN"),
        (OtterStackOptions(domain: "turn.example.com", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/"),
         "--certificate-arn must be an ACM certificate ARN"),
        (OtterStackOptions(domain: "turn.example.com", certificateArn: "arn:aws:acm:Europe:123456789012:certificate/abc"),
         "--certificate-arn must be an ACM certificate ARN"),
        (OtterStackOptions(domain: "turn.example.com", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/a b"),
         "--certificate-arn must be an ACM certificate ARN"),
    ])
    func rejected(options: OtterStackOptions, mentions: String) {
        #expect(throws: OptionsError.self) { try options.validate() }
        do { try options.validate() } catch { #expect(error.description.contains(mentions)) }
    }

    @Test func accepted() throws {
        try OtterStackOptions(stackName: "Otter-prod-2", maxPeers: 3, relayImage: "ghcr.io/x/otter-relay:1.2",
                              relayMinTasks: 2, relayMaxTasks: 2).validate()
        try OtterStackOptions(relayUserQuota: 1, relayTotalQuota: 1, relayMaxBps: 16_000).validate()
        try OtterStackOptions(relayUserQuota: 10_000, relayTotalQuota: 100_000, relayMaxBps: 12_500_000).validate()
        for domain in ["turn.example.com", "TURN.Example.org", "a-1.b2.example.co.uk"] {
            try OtterStackOptions(domain: domain, certificateArn: StackVariants.certificateArn).validate()
        }
        for arn in ["arn:aws-cn:acm:cn-north-1:123456789012:certificate/abc-123",
                    "arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/0d3c7a4e-1b2c-4d5e-8f90-123456789abc"] {
            try OtterStackOptions(domain: "turn.example.com", certificateArn: arn).validate()
        }
    }

    @Test func optionsReachTheTemplate() throws {
        let json = try OtterStack.template(OtterStackOptions(stackName: "demo", maxPeers: 3, relayImage: "my/relay:2",
                                                             relayMinTasks: 2, relayMaxTasks: 6)).json
        let p = json["Parameters"]!
        #expect(p["MaxPeers"]?["Default"] == 3)
        #expect(p["RelayImage"]?["Default"] == "my/relay:2")
        #expect(p["RelayMinTasks"]?["Default"] == 2)
        #expect(p["RelayMaxTasks"]?["Default"] == 6)
        let recorded = json["Metadata"]!["Otter"]!["options"]!
        #expect(recorded["relayMinTasks"] == 2 && recorded["relayMaxTasks"] == 6 && recorded["relayImage"] == "my/relay:2")
        #expect(recorded["domain"] == nil && recorded["certificateArn"] == nil)
        #expect(json["Resources"]!["RoomsTable"]!["Properties"]!["Tags"] == [["Key": "otter:stack", "Value": "demo"]])
    }
}

@Suite struct IntrinsicTests {
    @Test func interpolationBuildsSub() {
        let plain: CFString = "no \("intrinsic") here ${x}"
        #expect(plain.json == "no intrinsic here ${x}")
        let sub: CFString = "arn:\(Pseudo.partition):s3:::\(Fn.ref("Bucket"))/${literal}/\(Fn.getAtt("T", "Arn"))"
        #expect(sub.json == ["Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/${!literal}/${T.Arn}"])
        let nested: CFString = "x-\(Fn.select(1, Fn.getAZs()))"
        #expect(nested.json == ["Fn::Sub": ["x-${v0}", ["v0": ["Fn::Select": [1, ["Fn::GetAZs": ""]]]]]])
        let spliced: CFString = "\(sub)!"
        #expect(spliced.json == ["Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/${!literal}/${T.Arn}!"])
    }

    @Test func functions() {
        #expect(Fn.join(",", ["a", Pseudo.region]).json == ["Fn::Join": [",", ["a", ["Ref": "AWS::Region"]]]])
        let c = ConditionName(name: "C")
        #expect(Fn.if(c, "a", Pseudo.noValue).json == ["Fn::If": ["C", "a", ["Ref": "AWS::NoValue"]]])
        #expect(Fn.not(Fn.equals(Pseudo.region, "us-east-1")).json
                == ["Fn::Not": [["Fn::Equals": [["Ref": "AWS::Region"], "us-east-1"]]]])
        #expect(Pseudo.accountId.json == ["Ref": "AWS::AccountId"])
        #expect(Pseudo.stackName.json == ["Ref": "AWS::StackName"])
        #expect(Pseudo.urlSuffix.json == ["Ref": "AWS::URLSuffix"])
    }
}

@Suite struct EcrImageTests {
    @Test func parsesEcrReferences() {
        let image = EcrImage("123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter/relay:1.0")
        #expect(image == nil ? false : image!.repository == "otter/relay" && image!.region == "eu-west-1" && image!.account == "123456789012")
        #expect(EcrImage("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/relay@sha256:abc")?.repository == "relay")
        #expect(EcrImage("coturn/coturn") == nil)
        #expect(EcrImage("ghcr.io/coturn/coturn:4.6") == nil)
        #expect(EcrImage("localhost:5000/relay") == nil)
    }

    @Test func ecrImageGetsPullRightsOnItsRepositoryOnly() throws {
        func agentSids(_ image: String) throws -> [String] {
            let role = try OtterStack.template(OtterStackOptions(relayImage: image)).json["Resources"]!["RelayExecutionRole"]!
            return role["Properties"]!["Policies"]!.array![0]["PolicyDocument"]!["Statement"]!.array!.compactMap { $0["Sid"]?.string }
        }
        #expect(try agentSids(OtterStackOptions.defaultRelayImage) == ["Logs", "TurnSecret"])
        #expect(try agentSids("123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter-relay:1.0") == ["Logs", "TurnSecret", "EcrLogin", "EcrPull"])
        let role = try OtterStack.template(OtterStackOptions(relayImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter-relay:1.0"))
            .json["Resources"]!["RelayExecutionRole"]!.rendered()
        #expect(role.contains("arn:${AWS::Partition}:ecr:eu-west-1:123456789012:repository/otter-relay"))
    }
}
