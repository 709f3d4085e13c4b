import Foundation
import Testing
@testable import OtterDeploy
import OtterStacks

/// AWS rules about the relay image repository and references that moto does not enforce
/// (it accepts any repository name and any image string in a task definition).
@Suite struct RelayRepositoryAWSRuleTests {
    /// "Length Constraints: Minimum length of 2. Maximum length of 256.
    /// Pattern: (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
    /// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
    @Test(arguments: ["otter", "o", "Otter", "a--b", "trailing-", "MiXeD-Case-99", "x" + String(repeating: "-y", count: 63),
                      "A" + String(repeating: "b", count: 127)])
    func createRepositoryNameMatchesThePatternAndLength(stack: String) throws {
        let name = RelayRepository.name(stack: stack)
        let pattern = try Regex("^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
        #expect(name.wholeMatch(of: pattern) != nil, "\(name)")
        #expect((2...256).contains(name.count), "\(name.count)")
        #expect((try? OtterStackOptions(stackName: stack).validate()) != nil || stack.count > 128, "the stack name itself is valid")
    }

    @Test func aStackNameThatFitsKeepsItsPlainFormAndOthersNeverCollide() {
        #expect(RelayRepository.name(stack: "otter") == "otter/otter/relay")
        #expect(RelayRepository.name(stack: "team-a.b") == "otter/team-a.b/relay")
        let variants = ["Otter", "otter", "OTTER", "a--b", "a-b", "a-b-"]
        let names = variants.map(RelayRepository.name(stack:))
        #expect(Set(names).count == variants.count, "\(names)")
    }

    /// Image tags: "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}" (the distribution spec's tag rule, which
    /// ECR follows; ECR's ImageIdentifier allows at most 300 characters).
    /// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageIdentifier.html
    @Test func imageTagFollowsTheTagRule() throws {
        let tag = RelayRepository.tag(forManifest: "sha256:" + String(repeating: "ab", count: 32))
        #expect(tag == "relay-abababababababab")
        #expect(tag.wholeMatch(of: try Regex("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")) != nil)
    }

    /// A task definition names an image by digest as `repository-url/image@digest`
    /// ("…dkr.ecr.region.amazonaws.com/my-web-app@sha256:94afd1f2…"), and a sha256 digest is
    /// 64 lowercase hex digits. The reference must also still be read as this ECR repository,
    /// so the execution role's pull grant names it.
    /// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
    @Test func taskDefinitionImageByDigestIsRepositoryURLAtDigest() throws {
        let uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/" + RelayRepository.name(stack: "otter")
        let reference = uri + "@sha256:" + String(repeating: "0f", count: 32)
        #expect(reference.wholeMatch(of: try Regex(#"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$"#)) != nil)
        let ecr = try #require(EcrImage(reference))
        #expect(ecr.repository == "otter/otter/relay" && ecr.account == "123456789012" && ecr.region == "eu-west-1")
        var o = OtterStackOptions(stackName: "otter", relayImage: reference)
        o.relayImageIsOtter = true
        #expect((try? o.validate()) != nil)
    }
}
