import Foundation
import Testing
@testable import OtterStacks

/// The stack's contents checked against DESIGN.md and the security rules.
@Suite struct StackShapeTests {
    let json = try! OtterStack.template(OtterStackOptions()).json

    /// "METHOD /path" of each operation openapi.json (the one REST route list)
    /// marks `x-otter-lambda`: the routes the cloud stack serves. Read from the
    /// source tree, as OtterStacks itself carries no resources.
    static func openAPICloudRouteKeys() -> Set<String> {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/OtterServer/Resources/openapi.json").standardized
        let doc = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let paths = doc["paths"] as! [String: [String: [String: Any]]]
        return Set(paths.flatMap { path, ops in
            ops.filter { $0.value["x-otter-lambda"] != nil }.map { "\($0.key.uppercased()) \(path)" }
        })
    }
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

    /// The HTTP API has no Lambda authorizers: a refusal must be DESIGN.md's
    /// `{"error":{"code","message"}}` from the handler, and an authorizer's refusal is
    /// API Gateway's own `{"message":"Forbidden"}` (401/403) instead.
    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
    @Test func httpRoutesHaveNoAuthorizers() {
        let routes = ofType("AWS::ApiGatewayV2::Route").values.filter { $0["Properties"]?["ApiId"] == ["Ref": "HttpApi"] }
        #expect(Set(routes.compactMap { $0["Properties"]?["RouteKey"]?.string }) == Self.openAPICloudRouteKeys())
        for r in routes {
            #expect(r["Properties"]!["AuthorizationType"] == "NONE")
            #expect(r["Properties"]!["AuthorizerId"] == nil)
        }
        let authorizers = ofType("AWS::ApiGatewayV2::Authorizer")
        #expect(Set(authorizers.keys) == ["SignalAuthorizer"])
        #expect(authorizers.values.allSatisfy { $0["Properties"]?["ApiId"] == ["Ref": "SignalApi"] })
        #expect(!OtterFunction.allCases.map(\.handler).contains { $0.hasPrefix("http_") && $0.contains("authorizer") })
        let cors = resources["HttpApi"]!["Properties"]!["CorsConfiguration"]!
        #expect(cors["AllowOrigins"] == [["Fn::Sub": "https://${SiteDistribution.DomainName}"]])
    }

    /// Every Lambda permission names one API of this stack and one route or authorizer.
    @Test func permissionsAreScopedToThisStacksApis() {
        let permissions = ofType("AWS::Lambda::Permission")
        #expect(permissions.count == 6 + 1 + Self.openAPICloudRouteKeys().count)  // WebSocket routes, its authorizer, HTTP routes
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
        #expect(resources["RelayListener"]!["Properties"]!["Port"] == 3478)
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
    }

    /// ECS refuses a load-balanced service whose container maps one container port twice:
    /// "InvalidParameterException: Container port 3478 is used in more than one port mapping"
    /// (aws/amazon-ecs-agent#3428). With awsvpc the security group, not the mapping, decides
    /// what reaches the task, so TCP 3478 stays open through the group.
    /// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
    @Test(arguments: StackVariants.all) func loadBalancedContainerMapsEachPortOnce(options: OtterStackOptions) throws {
        let resources = try OtterStack.template(options).json["Resources"]!
        let container = resources["RelayTask"]!["Properties"]!["ContainerDefinitions"]!.array![0]
        let ports = container["PortMappings"]!.array!.compactMap { $0["ContainerPort"] }
        #expect(ports.count == Set(ports).count, "\(ports)")
        #expect(container["PortMappings"] == [["ContainerPort": 3478, "Protocol": "udp"]])
        let balanced = resources["RelayService"]!["Properties"]!["LoadBalancers"]!.array!
        #expect(balanced.allSatisfy { $0["ContainerPort"] == 3478 && $0["ContainerName"] == "relay" })
        let ingress = resources["RelaySecurityGroup"]!["Properties"]!["SecurityGroupIngress"]!.array!
        for proto in ["udp", "tcp"] {
            #expect(ingress.contains { $0["IpProtocol"] == .string(proto) && $0["FromPort"] == 3478 && $0["ToPort"] == 3478 })
        }
    }

    /// NLB target groups health-check over TCP (UDP health checks do not exist).
    /// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html
    @Test(arguments: StackVariants.all) func targetGroupsHealthCheckOverTcp(options: OtterStackOptions) throws {
        let json = try OtterStack.template(options).json["Resources"]!.object!
        let groups = json.values.filter { $0["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup" }
        #expect(groups.count == 2)
        for g in groups { #expect(g["Properties"]!["HealthCheckProtocol"] == "TCP") }
    }

    /// An internet-facing load balancer and a service whose tasks get public IPs need the
    /// gateway attached (and the route in place) first; CloudFormation cannot infer that.
    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html#gatewayattachment
    @Test(arguments: StackVariants.all) func publicResourcesDependOnTheInternetGateway(options: OtterStackOptions) throws {
        let resources = try OtterStack.template(options).json["Resources"]!
        for id in ["RelayLoadBalancer", "RelayService"] {
            let dependsOn = Set(resources[id]!["DependsOn"]?.array?.compactMap(\.string) ?? [])
            #expect(dependsOn.isSuperset(of: ["RelayGatewayAttachment", "RelayDefaultRoute"]), "\(id): \(dependsOn)")
        }
        #expect(resources["RelayLoadBalancer"]!["Properties"]!["Scheme"] == "internet-facing")
        #expect(resources["RelayDefaultRoute"]!["DependsOn"] == ["RelayGatewayAttachment"])
    }

    /// ws_join calls GetConnection (`GET @connections/{id}`) to tell stale seats from live
    /// ones; ManageConnections is authorized per verb.
    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html
    @Test func wsJoinMayGetConnections() throws {
        func manageConnections(_ fn: OtterFunction) -> [String] {
            let statements = resources["\(fn.stem)Role"]!["Properties"]!["Policies"]!.array![0]["PolicyDocument"]!["Statement"]!.array!
            return statements.filter { $0["Action"] == "execute-api:ManageConnections" }
                .compactMap { $0["Resource"]?["Fn::Sub"]?.string }
        }
        let prefix = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${SignalApi}/v1"
        #expect(Set(manageConnections(.wsJoin)) == Set(["POST", "DELETE", "GET"].map { "\(prefix)/\($0)/@connections/*" }))
        #expect(manageConnections(.wsSignal) == ["\(prefix)/POST/@connections/*"])
        #expect(OtterFunction.wsJoin.grants.contains(.getConnections))
    }

    /// TURN for networks that allow only 443: a plain TCP listener on 443 to the relay's TCP
    /// 3478 and its `turn:` URL; the ICE handler hands out exactly the `TurnUrls` output.
    @Test func turnOverTcp443WithoutDomain() throws {
        let l = resources["RelayListener443"]!["Properties"]!
        #expect(l["Protocol"] == "TCP")
        #expect(l["Port"] == 443)
        #expect(l["Certificates"] == nil)
        #expect(l["DefaultActions"]!.array![0]["TargetGroupArn"] == ["Ref": "RelayTcpTargets"])
        let tcp = resources["RelayTcpTargets"]!["Properties"]!
        #expect(tcp["Protocol"] == "TCP")
        #expect(tcp["Port"] == 3478)
        let balanced = resources["RelayService"]!["Properties"]!["LoadBalancers"]!.array!.compactMap { $0["TargetGroupArn"]?["Ref"]?.string }
        #expect(Set(balanced) == ["RelayTargets", "RelayTcpTargets"])
        #expect(Set(resources["RelayService"]!["DependsOn"]!.array!.compactMap(\.string)).isSuperset(of: ["RelayListener", "RelayListener443"]))

        let urls = json["Outputs"]!["TurnUrls"]!["Value"]!
        #expect(urls == ["Fn::Sub": "turn:${RelayLoadBalancer.DNSName}:3478?transport=udp,turn:${RelayLoadBalancer.DNSName}:3478?transport=tcp,turn:${RelayLoadBalancer.DNSName}:443?transport=tcp,stun:${RelayLoadBalancer.DNSName}:3478"])
        #expect(resources["HttpIceFunction"]!["Properties"]!["Environment"]!["Variables"]!["TURN_URLS"] == urls)
        #expect(!urls.rendered().contains("turns:"))
        #expect(json["Outputs"]!["TurnTlsNote"]!["Value"]!.string!.contains("--domain"))
        #expect(json["Outputs"]!["TurnDnsRecord"] == nil)
        #expect(json["Metadata"]!["Otter"]!["turnTls"]!.string!.contains("--certificate-arn"))
    }

    /// With a domain and an ACM certificate, 443 is TLS ended at the NLB (the relay sees TCP)
    /// and the ICE servers carry a `turns:` URL on the domain.
    /// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/create-tls-listener.html
    @Test func turnOverTlsWithDomain() throws {
        let arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0d3c7a4e-1b2c-4d5e-8f90-123456789abc"
        let json = try OtterStack.template(OtterStackOptions(domain: "turn.example.com", certificateArn: arn)).json
        let resources = json["Resources"]!
        let l = resources["RelayListener443"]!["Properties"]!
        #expect(l["Protocol"] == "TLS")
        #expect(l["Port"] == 443)
        #expect(l["Certificates"] == [["CertificateArn": .string(arn)]])
        #expect(l["SslPolicy"]?.string?.hasPrefix("ELBSecurityPolicy-TLS13") == true)
        #expect(l["DefaultActions"]!.array![0]["TargetGroupArn"] == ["Ref": "RelayTcpTargets"])
        #expect(resources["RelayTcpTargets"]!["Properties"]!["Protocol"] == "TCP")

        let urls = json["Outputs"]!["TurnUrls"]!["Value"]!["Fn::Sub"]!.string!.split(separator: ",")
        #expect(urls.contains("turns:turn.example.com:443?transport=tcp"))
        #expect(!urls.contains { $0.hasPrefix("turn:") && $0.contains(":443") })
        #expect(urls.contains("turn:${RelayLoadBalancer.DNSName}:3478?transport=udp"))
        #expect(json["Outputs"]!["TurnDnsRecord"]!["Value"] == ["Fn::Sub": "turn.example.com CNAME ${RelayLoadBalancer.DNSName}"])
        #expect(json["Outputs"]!["TurnTlsNote"] == nil)
        let options = json["Metadata"]!["Otter"]!["options"]!
        #expect(options["domain"] == "turn.example.com")
        #expect(options["certificateArn"] == .string(arn))
    }

    /// Scale-in and redeploys must not cut relayed calls: the NLB pins a flow to a task, so a
    /// removed task keeps its flows for the deregistration delay, the NLB does not reset them
    /// itself, and target tracking waits at least 10 minutes between scale-in steps.
    /// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#deregistration-delay
    /// https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
    @Test func scaleInKeepsRelayedCalls() throws {
        let config = resources["RelayCpuScaling"]!["Properties"]!["TargetTrackingScalingPolicyConfiguration"]!
        guard case .int(let cooldown)? = config["ScaleInCooldown"] else { Issue.record("no ScaleInCooldown"); return }
        #expect(cooldown >= 600)
        for id in ["RelayTargets", "RelayTcpTargets"] {
            var attributes: [String: String] = [:]
            for a in resources[id]!["Properties"]!["TargetGroupAttributes"]!.array! { attributes[a["Key"]!.string!] = a["Value"]!.string! }
            #expect(attributes["deregistration_delay.connection_termination.enabled"] == "false", "\(id)")
            #expect(Int(attributes["deregistration_delay.timeout_seconds"] ?? "") ?? 0 >= 600, "\(id)")
            // The attribute's maximum.
            #expect(Int(attributes["deregistration_delay.timeout_seconds"] ?? "") ?? 0 <= 3600, "\(id)")
        }
    }

    /// coturn's quotas and bandwidth cap are on the relay's command line, from the options.
    @Test func relayQuotasComeFromTheOptions() throws {
        func command(_ o: OtterStackOptions) throws -> [String] {
            try OtterStack.template(o).json["Resources"]!["RelayTask"]!["Properties"]!["ContainerDefinitions"]!.array![0]["Command"]!
                .array!.compactMap(\.string)
        }
        let defaults = try command(OtterStackOptions())
        #expect(defaults.contains("--user-quota=128"))
        #expect(defaults.contains("--total-quota=1000"))
        #expect(defaults.contains("--max-bps=500000"))
        let custom = try command(OtterStackOptions(relayUserQuota: 20, relayTotalQuota: 300, relayMaxBps: 250_000))
        #expect(custom.contains("--user-quota=20") && custom.contains("--total-quota=300") && custom.contains("--max-bps=250000"))
        #expect(custom.filter { $0.hasPrefix("--user-quota") }.count == 1)
        let meta = json["Metadata"]!["Otter"]!["options"]!
        #expect(meta["relayUserQuota"] == 128 && meta["relayTotalQuota"] == 1000 && meta["relayMaxBps"] == 500_000)
    }

    /// Otter's own image has no shell: nothing in its command may need one (otter relay refuses
    /// `$TURN_SECRET` and `$(detect-external-ip)` verbatim), the secret still comes from the
    /// task's secrets, and the execution role may pull from exactly that repository.
    @Test func otterRelayImageRunsWithoutAShellAndPullsOnlyItsRepository() throws {
        let t = try OtterStack.template(StackVariants.otterImage).json
        let r = t["Resources"]!
        let container = r["RelayTask"]!["Properties"]!["ContainerDefinitions"]!.array![0]
        let command = container["Command"]!.array!.compactMap(\.string)
        #expect(!command.contains { $0.contains("$") }, "\(command)")
        #expect(command.contains("--external-ip=auto") && command.contains("--use-auth-secret"))
        #expect(!command.contains { $0.hasPrefix("--static-auth-secret") })
        #expect(container["Secrets"]!.array!.contains { $0["Name"] == "TURN_SECRET" })
        #expect(t["Parameters"]!["RelayImage"]!["Default"]!.string == StackVariants.otterImage.relayImage)
        #expect(t["Metadata"]!["Otter"]!["options"]!["relayImageIsOtter"] == true)
        let statements = r["RelayExecutionRole"]!["Properties"]!["Policies"]!.array![0]["PolicyDocument"]!["Statement"]!.array!
        let pull = try #require(statements.first { $0["Sid"] == "EcrPull" })
        let resource = pull["Resource"]!.rendered()
        #expect(resource.contains(":ecr:eu-west-1:123456789012:repository/otter/otter/relay\"") && !resource.contains("*"), "\(resource)")
        let actions = pull["Action"]!.array?.compactMap(\.string) ?? [pull["Action"]!.string!]
        #expect(Set(actions) == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
        let login = try #require(statements.first { $0["Sid"] == "EcrLogin" })
        #expect(login["Action"]!.rendered().contains("ecr:GetAuthorizationToken") && login["Resource"]!.rendered().contains("*"))
        #expect(statements.filter { $0.rendered().contains("ecr:") }.count == 2)
        // The task role is unchanged: the image pull is the agent's, not the relay's.
        let task = try OtterStack.template(OtterStackOptions()).json["Resources"]!["RelayTaskRole"]!
        #expect(r["RelayTaskRole"]! == task)
    }

    /// A pinned default image: a bare name means `latest`, and a new upstream release would
    /// arrive with the next redeploy (and the circuit breaker could roll it back).
    @Test func relayImageIsPinned() throws {
        let image = json["Parameters"]!["RelayImage"]!["Default"]!.string!
        #expect(image == OtterStackOptions.defaultRelayImage)
        let tag = image.split(separator: "/").last!.split(separator: ":").dropFirst().first
        #expect(tag != nil && tag != "latest" && tag!.first!.isNumber, "\(image)")
        #expect(json["Metadata"]!["Otter"]!["options"]!["relayImage"]!.string == image)
    }

    /// Access logs on both API stages, each in a log group with the project's retention. A
    /// WebSocket stage needs the account's API Gateway logging role first (HTTP APIs do not):
    /// "CloudWatch Logs role ARN must be set in account settings to enable logging".
    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html
    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html#set-up-access-logging-permissions
    @Test func apiStagesWriteAccessLogs() throws {
        for (stage, group) in [("SignalStage", "SignalAccessLogs"), ("HttpStage", "HttpAccessLogs")] {
            let settings = resources[stage]!["Properties"]!["AccessLogSettings"]!
            #expect(settings["DestinationArn"] == ["Fn::GetAtt": [.string(group), "Arn"]], "\(stage)")
            let format = settings["Format"]!.string!
            #expect(format.contains("$context.requestId") && format.contains("$context.status"), "\(stage)")
            // Credentials travel in the query string ($connect) and headers: never logged.
            #expect(!format.contains("querystring") && !format.contains("$context.path") && !format.contains("header"), "\(stage)")
            #expect(resources[group]!["Properties"]!["RetentionInDays"] == .int(OtterStack.logRetentionDays))
        }
        #expect(resources["SignalStage"]!["DependsOn"] == ["ApiGatewayAccount"])
        #expect(resources["ApiGatewayAccount"]!["Properties"]!["CloudWatchRoleArn"] == ["Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]])
        let role = resources["ApiGatewayLogsRole"]!
        #expect(role["DeletionPolicy"] == "Retain")
        #expect(role["Properties"]!["AssumeRolePolicyDocument"]!["Statement"]!.array![0]["Principal"] == ["Service": "apigateway.amazonaws.com"])
    }

    /// Point-in-time recovery on every table (the config table holds the API key hash).
    /// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html
    @Test func tablesHavePointInTimeRecovery() {
        for t in OtterTable.allCases {
            #expect(resources[t.rawValue]!["Properties"]!["PointInTimeRecoverySpecification"] == ["PointInTimeRecoveryEnabled": true])
        }
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
                     "ConfigTable", "RoomsTable", "ConnectionsTable", "StunUrl", "TurnUrls"] {
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

/// The template variants the tests walk: every option at a default and at an edge.
enum StackVariants {
    static let certificateArn = "arn:aws:acm:eu-west-1:123456789012:certificate/0d3c7a4e-1b2c-4d5e-8f90-123456789abc"
    static let all: [OtterStackOptions] = [
        OtterStackOptions(),
        OtterStackOptions(maxPeers: 4),
        OtterStackOptions(relayImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter-relay:1.0"),
        OtterStackOptions(relayMinTasks: 2, relayMaxTasks: 10),
        OtterStackOptions(relayMinTasks: 3, relayMaxTasks: 3),
        OtterStackOptions(relayUserQuota: 16, relayTotalQuota: 200, relayMaxBps: 250_000),
        OtterStackOptions(domain: "turn.example.com", certificateArn: certificateArn),
        otterImage,
    ]
    /// What `otter deploy` builds and pushes: its own image in the stack's ECR repository, by digest.
    static var otterImage: OtterStackOptions {
        var o = OtterStackOptions(relayImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter/otter/relay@sha256:" + String(repeating: "5e", count: 32))
        o.relayImageIsOtter = true
        return o
    }
}
