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
        t.add("SignalStage", GatewayStage(apiId: api.ref, stageName: OtterStack.signalStage,
                                          description: "Otter signaling", burstLimit: 200, rateLimit: 100))
        let host: CFString = "\(api.ref).execute-api.\(Pseudo.region).\(Pseudo.urlSuffix)/\(OtterStack.signalStage)"
        return SignalingApi(api: api, url: "wss://\(host)", managementEndpoint: "https://\(host)")
    }

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
            cors: CorsConfiguration(allowOrigins: [webAppOrigin], allowMethods: ["GET", "POST"],
                                    allowHeaders: ["authorization", "content-type", "x-api-key"], maxAge: 600)))
        t.add("HttpStage", GatewayStage(apiId: api.ref, stageName: stage, description: "Otter REST API",
                                        burstLimit: 50, rateLimit: 20))
        return RestApi(api: api)
    }

    enum Auth { case apiKey, roomToken, none }

    /// (method, path, function, authorizer, logical-ID stem), as in DESIGN.md.
    static let routes: [(method: String, path: String, function: OtterFunction, auth: Auth, logicalId: String)] = [
        ("POST", "/rooms", .httpRooms, .apiKey, "CreateRoom"),
        ("GET", "/rooms/{roomId}", .httpRooms, .roomToken, "GetRoom"),
        ("GET", "/rooms/{roomId}/ice-servers", .httpIce, .roomToken, "IceServers"),
        ("POST", "/keys/rotate", .httpKeys, .apiKey, "RotateKey"),
        ("GET", "/healthz", .httpHealth, .none, "Health"),
    ]

    func wire(into t: inout Template, functions: [OtterFunction: Handle<LambdaFunction>]) {
        var authorizers: [OtterFunction: Handle<GatewayAuthorizer>] = [:]
        for (fn, name, header, id) in [(OtterFunction.httpKeyAuthorizer, "api-key", "x-api-key", "HttpKeyAuthorizer"),
                                       (.httpTokenAuthorizer, "room-token", "authorization", "HttpTokenAuthorizer")] {
            let handle = functions[fn]!
            let authorizer = t.add(id, GatewayAuthorizer(
                apiId: api.ref, name: name, uri: handle.invocationUri, identitySource: ["$request.header.\(header)"],
                httpSimpleResponses: true))
            t.add("\(id)Permission", LambdaPermission(
                functionName: handle.arn, principal: "apigateway.amazonaws.com",
                sourceArn: "\(api.executeArn)/authorizers/\(authorizer.ref)"))
            authorizers[fn] = authorizer
        }
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
            let authorizer: Handle<GatewayAuthorizer>? = switch route.auth {
            case .apiKey: authorizers[.httpKeyAuthorizer]
            case .roomToken: authorizers[.httpTokenAuthorizer]
            case .none: nil
            }
            t.add("Http\(route.logicalId)Route", GatewayRoute(
                apiId: api.ref, routeKey: "\(route.method) \(route.path)", integration: integration, authorizer: authorizer))
            // Source ARN path: path parameters as "*" (what API Gateway puts there is the request's path).
            let arnPath = route.path.split(separator: "/").map { $0.hasPrefix("{") ? "*" : String($0) }.joined(separator: "/")
            t.add("Http\(route.logicalId)Permission", LambdaPermission(
                functionName: fn.arn, principal: "apigateway.amazonaws.com",
                sourceArn: "\(api.executeArn)/\(Self.stage)/\(route.method)/\(arnPath)"))
        }
    }
}
