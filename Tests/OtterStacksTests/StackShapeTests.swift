import Foundation
import Testing
@testable import OtterStacks

/// The stack's contents checked against DESIGN.md and issue 6.
@Suite struct StackShapeTests {
    let json = try! OtterStack.template(OtterStackOptions()).json
    var resources: [String: JSON] { json["Resources"]!.object! }
    func ofType(_ type: String) -> [String: JSON] { resources.filter { $0.value["Type"]?.string == type } }

    @Test func webSocketRoutes() {
        let api = resources["SignalApi"]!["Properties"]!
        #expect(api["ProtocolType"] == "WEBSOCKET")
        #expect(api["RouteSelectionExpression"] == "$request.body.action")
        let routes = ofType("AWS::ApiGatewayV2::Route").values.filter { $0["Properties"]?["ApiId"] == ["Ref": "SignalApi"] }
        let keys = Set(routes.compactMap { $0["Properties"]?["RouteKey"]?.string })
        #expect(keys == ["$connect", "$disconnect", "join", "signal", "ping", "$default"])
        for route in routes {
            let p = route["Properties"]!
            let authorized = p["AuthorizationType"] == "CUSTOM"
            #expect(authorized == (p["RouteKey"] == "$connect"))
        }
        #expect(resources["SignalAuthorizer"]!["Properties"]!["IdentitySource"] == ["route.request.querystring.token"])
    }

    @Test func httpRoutesAndAuthorizers() {
        let routes = ofType("AWS::ApiGatewayV2::Route").values.filter { $0["Properties"]?["ApiId"] == ["Ref": "HttpApi"] }
        var auth: [String: String] = [:]
        for r in routes {
            let p = r["Properties"]!
            auth[p["RouteKey"]!.string!] = p["AuthorizerId"]?["Ref"]?.string ?? "none"
        }
        #expect(auth == [
            "POST /rooms": "HttpKeyAuthorizer",
            "GET /rooms/{roomId}": "HttpTokenAuthorizer",
            "GET /rooms/{roomId}/ice-servers": "HttpTokenAuthorizer",
            "POST /keys/rotate": "HttpKeyAuthorizer",
            "GET /healthz": "none",
        ])
        for id in ["HttpKeyAuthorizer", "HttpTokenAuthorizer"] {
            let p = resources[id]!["Properties"]!
            #expect(p["EnableSimpleResponses"] == true)
            #expect(p["AuthorizerResultTtlInSeconds"] == 0)
            #expect(p["AuthorizerPayloadFormatVersion"] == "2.0")
        }
        let cors = resources["HttpApi"]!["Properties"]!["CorsConfiguration"]!
        #expect(cors["AllowOrigins"] == [["Fn::Sub": "https://${SiteDistribution.DomainName}"]])
    }

    /// Every Lambda permission names one API of this stack and one route or authorizer.
    @Test func permissionsAreScopedToThisStacksApis() {
        let permissions = ofType("AWS::Lambda::Permission")
        #expect(permissions.count == 6 + 1 + 5 + 2)
        for (id, p) in permissions {
            let arn = p["Properties"]!["SourceArn"]!["Fn::Sub"]!.string!
            #expect(arn.hasPrefix("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${SignalApi}/")
                    || arn.hasPrefix("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/"), "\(id)")
            #expect(!arn.hasSuffix("/*/*"), "\(id): \(arn)")
        }
    }

    @Test func functionsFollowTheCatalogue() {
        let functions = ofType("AWS::Lambda::Function")
        #expect(functions.count == OtterFunction.allCases.count)
        #expect(Set(OtterFunction.allCases.map(\.handler)).count == OtterFunction.allCases.count)
        for fn in OtterFunction.allCases {
            let p = resources["\(fn.stem)Function"]!["Properties"]!
            #expect(p["Handler"]?.string == fn.handler)
            #expect(p["Runtime"] == "python3.12")
            #expect(p["Architectures"] == ["arm64"])
            #expect(p["Role"] == ["Fn::GetAtt": [.string("\(fn.stem)Role"), "Arn"]])
            #expect(p["Code"] == ["S3Bucket": ["Ref": "ArtifactsBucket"], "S3Key": ["Ref": "HandlersKey"]])
            let env = Set((p["Environment"]?["Variables"]?.object ?? [:]).keys)
            #expect(env == Set(fn.environment.map(\.rawValue)), "\(fn)")
            #expect(resources["\(fn.stem)Logs"]?["Properties"]?["RetentionInDays"] == .int(OtterStack.logRetentionDays))
            // One role per function, used by nothing else.
            let users = resources.values.filter { $0["Properties"]?["Role"] == ["Fn::GetAtt": [.string("\(fn.stem)Role"), "Arn"]] }
            #expect(users.count == 1)
        }
    }

    @Test func tablesMatchTheHandlers() {
        let connections = resources["ConnectionsTable"]!["Properties"]!
        #expect(connections["KeySchema"] == [["AttributeName": "connectionId", "KeyType": "HASH"]])
        #expect(connections["GlobalSecondaryIndexes"]?.array?.first?["IndexName"] == "byRoom")
        #expect(resources["RoomsTable"]!["Properties"]!["TimeToLiveSpecification"] == ["AttributeName": "expiresAt", "Enabled": true])
        #expect(resources["ConfigTable"]!["Properties"]!["KeySchema"] == [["AttributeName": "id", "KeyType": "HASH"]])
        for t in OtterTable.allCases {
            #expect(resources[t.rawValue]!["Properties"]!["BillingMode"] == "PAY_PER_REQUEST")
        }
    }

    @Test func relay() {
        let tg = resources["RelayTargets"]!["Properties"]!
        #expect(tg["Protocol"] == "TCP_UDP")
        #expect(tg["Port"] == 3478)
        #expect(resources["RelayListener"]!["Properties"]!["Protocol"] == "TCP_UDP")
        let service = resources["RelayService"]!["Properties"]!
        #expect(service["NetworkConfiguration"]?["AwsvpcConfiguration"]?["AssignPublicIp"] == "ENABLED")
        let subnets = ofType("AWS::EC2::Subnet").values.map { $0["Properties"]!["AvailabilityZone"]! }
        #expect(Set(subnets) == [["Fn::Select": [0, ["Fn::GetAZs": ""]]], ["Fn::Select": [1, ["Fn::GetAZs": ""]]]])
        let policy = resources["RelayCpuScaling"]!
        #expect(policy["Condition"] == "RelayScales")
        let target = policy["Properties"]!["TargetTrackingScalingPolicyConfiguration"]!["TargetValue"]!
        if case .int(let percent) = target { #expect((60...75).contains(percent)) } else { Issue.record("no target") }
        let container = resources["RelayTask"]!["Properties"]!["ContainerDefinitions"]!.array![0]
        #expect(container["Image"] == ["Ref": "RelayImage"])
        let command = container["Command"]!.array!.compactMap(\.string)
        #expect(command.contains("--external-ip=$(detect-external-ip)"))
        #expect(command.contains("--use-auth-secret"))
        #expect(command.contains("--denied-peer-ip=169.254.0.0-169.254.255.255"))
        #expect(json["Parameters"]!["RelayImage"]!["Default"] == "coturn/coturn")
    }

    @Test func webApp() {
        let config = resources["SiteDistribution"]!["Properties"]!["DistributionConfig"]!
        #expect(config["DefaultRootObject"] == "index.html")
        #expect(config["DefaultCacheBehavior"]?["ViewerProtocolPolicy"] == "https-only")
        let headers = resources["SiteHeadersPolicy"]!["Properties"]!["ResponseHeadersPolicyConfig"]!
        #expect(headers["CustomHeadersConfig"]?["Items"]?.array?.first?["Value"] == "camera=(self), microphone=(self), display-capture=(self)")
        #expect(headers["SecurityHeadersConfig"]?["StrictTransportSecurity"] != nil)
        let csp = headers["SecurityHeadersConfig"]!["ContentSecurityPolicy"]!["ContentSecurityPolicy"]!.rendered()
        #expect(csp.contains("wss://${SignalApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"))
    }

    @Test func everyTaggableResourceCarriesTheStackTag() throws {
        let json = try OtterStack.template(OtterStackOptions(stackName: "otter-test")).json
        var tagged = 0
        for (id, r) in json["Resources"]!.object! {
            guard let tags = r["Properties"]?["Tags"] else { continue }
            tagged += 1
            if let list = tags.array {
                #expect(list.contains(["Key": "otter:stack", "Value": "otter-test"]), "\(id)")
            } else {
                #expect(tags["otter:stack"] == "otter-test", "\(id)")
            }
        }
        // Which types must be tagged is checked against cfn-lint's schemas in Tests/stacks.
        #expect(tagged > 60)
    }

    @Test func outputsForDeploy() {
        let outputs = Set(json["Outputs"]!.object!.keys)
        for name in ["ApiUrl", "SignalUrl", "WebAppUrl", "SiteBucket", "ArtifactsBucket", "DistributionId", "RelayHost",
                     "ConfigTable", "RoomsTable", "ConnectionsTable", "StunUrl"] {
            #expect(outputs.contains(name), "\(name)")
        }
    }

    /// README.md's handler table is the one in code.
    @Test func readmeListsEveryHandler() throws {
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/OtterStacks/README.md"), encoding: .utf8)
        for fn in OtterFunction.allCases {
            let env = fn.environment.map { "`\($0.rawValue)`" }.joined(separator: ", ")
            let row = "| \(fn.stem)Function | `\(fn.handler)` | \(env.isEmpty ? "—" : env) |"
            #expect(readme.contains(row), "README row missing or stale: \(row)")
        }
    }
}
