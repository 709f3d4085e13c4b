/// The WebSocket signaling API. Routes are wired after the functions exist.
struct SignalingApi {
    let api: Handle<GatewayApi>
    /// `wss://<api>.execute-api.<region>.<suffix>/<stage>`. Built from the id rather than
    /// the `ApiEndpoint` attribute so the scheme is right on any endpoint.
    let url: CFString
    /// Management API endpoint for `@connections` (WS_ENDPOINT).
    let managementEndpoint: CFString

    static func add(to t: inout Template) -> SignalingApi {
        let api = t.add("SignalApi", GatewayApi(
            name: "\(Pseudo.stackName)-signal", description: "Otter signaling (DESIGN.md): routes on the frame's action",
            protocolType: .webSocket, routeSelectionExpression: "$request.body.action"))
        // A WebSocket stage writes its access logs through the account's API Gateway logging
        // role, and is refused without one; a fresh account has none. Retained, as the AWS CDK
        // does: the setting is account-wide (every REST and WebSocket API in the region logs
        // through it), so deleting the role with this stack would break their logging.
        let logsRole = t.add("ApiGatewayLogsRole", IAMRole(
            description: "API Gateway (this region): write REST and WebSocket API logs", assumedBy: "apigateway.amazonaws.com",
            policies: [(name: "push-to-cloudwatch-logs", document: PolicyDocument([
                // AmazonAPIGatewayPushToCloudWatchLogs's actions, on this region's log groups rather than "*".
                PolicyStatement(sid: "LogGroups", allow: [
                    "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
                    "logs:FilterLogEvents", "logs:GetLogEvents", "logs:PutLogEvents",
                ], on: ["arn:\(Pseudo.partition):logs:\(Pseudo.region):\(Pseudo.accountId):log-group:*"]),
            ]))]), removal: .retain)
        let account = t.add("ApiGatewayAccount", GatewayAccount(cloudWatchRoleArn: logsRole.arn))
        let logs = t.add("SignalAccessLogs", LogGroup(retentionInDays: OtterStack.logRetentionDays))
        t.add("SignalStage", GatewayStage(
            apiId: api.ref, stageName: OtterStack.signalStage, description: "Otter signaling", burstLimit: 200, rateLimit: 100,
            accessLog: .init(destinationArn: logs.arn, format: Self.accessLogFormat)), dependsOn: [account])
        let host: CFString = "\(api.ref).execute-api.\(Pseudo.region).\(Pseudo.urlSuffix)/\(OtterStack.signalStage)"
        return SignalingApi(api: api, url: "wss://\(host)", managementEndpoint: "https://\(host)")
    }

    /// One JSON line per event. No query string: `$connect` carries the room token there.
    static let accessLogFormat = #"{"requestId":"$context.requestId","time":"$context.requestTimeEpoch","eventType":"$context.eventType","routeKey":"$context.routeKey","connectionId":"$context.connectionId","status":"$context.status","error":"$context.error.message","authorizerError":"$context.authorizer.error"}"#

    /// Route key → function; `$connect` also goes through the authorizer.
    static let routes: [(key: String, function: OtterFunction, logicalId: String)] = [
        ("$connect", .wsConnect, "Connect"),
        ("$disconnect", .wsDisconnect, "Disconnect"),
        ("join", .wsJoin, "Join"),
        ("signal", .wsSignal, "Signal"),
        ("ping", .wsPing, "Ping"),
        ("$default", .wsDefault, "Default"),
    ]

    func wire(into t: inout Template, functions: [OtterFunction: Handle<LambdaFunction>]) {
        let authorizerFn = functions[.wsAuthorizer]!
        let authorizer = t.add("SignalAuthorizer", GatewayAuthorizer(
            apiId: api.ref, name: "room-token", uri: authorizerFn.invocationUri,
            identitySource: ["route.request.querystring.token"], httpSimpleResponses: false))
        t.add("SignalAuthorizerPermission", LambdaPermission(
            functionName: authorizerFn.arn, principal: "apigateway.amazonaws.com",
            sourceArn: "\(api.executeArn)/authorizers/\(authorizer.ref)"))
        for route in Self.routes {
            let fn = functions[route.function]!
            let integration = t.add("Signal\(route.logicalId)Integration", GatewayIntegration(
                apiId: api.ref, description: route.function.handler, uri: fn.invocationUri, payloadFormatVersion: nil))
            t.add("Signal\(route.logicalId)Route", GatewayRoute(
                apiId: api.ref, routeKey: route.key, integration: integration,
                authorizer: route.key == "$connect" ? authorizer : nil))
            t.add("Signal\(route.logicalId)Permission", LambdaPermission(
                functionName: fn.arn, principal: "apigateway.amazonaws.com",
                sourceArn: "\(api.executeArn)/\(OtterStack.signalStage)/\(route.key)"))
        }
    }
}

/// The HTTP API of DESIGN.md's REST table.
struct RestApi {
    let api: Handle<GatewayApi>

    static let stage = "$default"

    static func add(to t: inout Template, webAppOrigin: CFString) -> RestApi {
        let api = t.add("HttpApi", GatewayApi(
            name: "\(Pseudo.stackName)-api", description: "Otter REST API (DESIGN.md)", protocolType: .http,
            cors: CorsConfiguration(allowOrigins: [webAppOrigin], allowMethods: Set(routes.map(\.method)).sorted(),
                                    allowHeaders: ["authorization", "content-type", "x-api-key"], maxAge: 600)))
        // HTTP APIs deliver access logs without the account's logging role.
        let logs = t.add("HttpAccessLogs", LogGroup(retentionInDays: OtterStack.logRetentionDays))
        t.add("HttpStage", GatewayStage(
            apiId: api.ref, stageName: stage, description: "Otter REST API", burstLimit: 50, rateLimit: 20,
            accessLog: .init(destinationArn: logs.arn, format: Self.accessLogFormat)))
        return RestApi(api: api)
    }

    /// One JSON line per request. No headers: the API key and the room token travel there.
    static let accessLogFormat = #"{"requestId":"$context.requestId","time":"$context.requestTimeEpoch","method":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status","latencyMs":"$context.responseLatency","error":"$context.error.message","integrationError":"$context.integrationErrorMessage"}"#

    /// (method, path, function, logical-ID stem): openapi.json's operations marked
    /// `x-otter-lambda` (Tests/stacks/test_http_api_openapi.py checks the two agree). No route has an
    /// authorizer: the handlers check the API key or room token themselves and answer
    /// DESIGN.md's `{"error":…}` bodies, which an authorizer's refusal
    /// (`{"message":"Forbidden"}`) would not; it also saves an invocation per request.
    static let routes: [(method: String, path: String, function: OtterFunction, logicalId: String)] = [
        ("POST", "/rooms", .httpRooms, "CreateRoom"),
        ("GET", "/rooms/{roomId}", .httpRooms, "GetRoom"),
        ("GET", "/rooms/{roomId}/ice-servers", .httpIce, "IceServers"),
        ("POST", "/keys/rotate", .httpKeys, "RotateKey"),
        ("GET", "/healthz", .httpHealth, "Health"),
    ]

    func wire(into t: inout Template, functions: [OtterFunction: Handle<LambdaFunction>]) {
        var integrations: [OtterFunction: Handle<GatewayIntegration>] = [:]
        for route in Self.routes {
            let fn = functions[route.function]!
            let integration: Handle<GatewayIntegration>
            if let existing = integrations[route.function] {
                integration = existing
            } else {
                integration = t.add("\(route.function.stem)Integration", GatewayIntegration(
                    apiId: api.ref, description: route.function.handler, uri: fn.arn, payloadFormatVersion: "2.0"))
                integrations[route.function] = integration
            }
            t.add("Http\(route.logicalId)Route", GatewayRoute(
                apiId: api.ref, routeKey: "\(route.method) \(route.path)", integration: integration))
            // Source ARN path: path parameters as "*" (what API Gateway puts there is the request's path).
            let arnPath = route.path.split(separator: "/").map { $0.hasPrefix("{") ? "*" : String($0) }.joined(separator: "/")
            t.add("Http\(route.logicalId)Permission", LambdaPermission(
                functionName: fn.arn, principal: "apigateway.amazonaws.com",
                sourceArn: "\(api.executeArn)/\(Self.stage)/\(route.method)/\(arnPath)"))
        }
    }
}
