public enum ApiProtocol: String, Sendable { case webSocket = "WEBSOCKET", http = "HTTP" }

public struct CorsConfiguration: JSONRepresentable {
    public var allowOrigins: [CFString]
    public var allowMethods: [String]
    public var allowHeaders: [String]
    public var maxAge: Int
    public init(allowOrigins: [CFString], allowMethods: [String], allowHeaders: [String], maxAge: Int) {
        self.allowOrigins = allowOrigins
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.maxAge = maxAge
    }
    public var json: JSON {
        props(["AllowOrigins": allowOrigins, "AllowMethods": allowMethods, "AllowHeaders": allowHeaders,
               "MaxAge": maxAge, "AllowCredentials": false])
    }
}

public struct GatewayApi: Taggable {
    public static let typeName = "AWS::ApiGatewayV2::Api"
    public static let tagFormat: TagFormat? = .map
    public var name: CFString
    public var description: String
    public var protocolType: ApiProtocol
    /// WebSocket only: where the route key is read from.
    public var routeSelectionExpression: String?
    public var cors: CorsConfiguration?

    public init(name: CFString, description: String, protocolType: ApiProtocol, routeSelectionExpression: String? = nil,
                cors: CorsConfiguration? = nil) {
        self.name = name
        self.description = description
        self.protocolType = protocolType
        self.routeSelectionExpression = routeSelectionExpression
        self.cors = cors
    }

    public var properties: JSON {
        props(["Name": name, "Description": description, "ProtocolType": protocolType.rawValue,
               "RouteSelectionExpression": routeSelectionExpression, "CorsConfiguration": cors])
    }
}

extension Handle where R == GatewayApi {
    /// `wss://…` for WebSocket APIs, `https://…` for HTTP APIs.
    public var apiEndpoint: CFString { getAtt("ApiEndpoint") }
    /// ARN prefix for `execute-api` permissions and Lambda source ARNs of this API.
    public var executeArn: CFString {
        "arn:\(Pseudo.partition):execute-api:\(Pseudo.region):\(Pseudo.accountId):\(ref)"
    }
}

public struct GatewayStage: Taggable {
    public static let typeName = "AWS::ApiGatewayV2::Stage"
    public static let tagFormat: TagFormat? = .map
    /// Access logs: one line per request (or WebSocket event) in `destinationArn`'s log group.
    public struct AccessLog: Sendable {
        public var destinationArn: CFString
        public var format: String
        public init(destinationArn: CFString, format: String) { self.destinationArn = destinationArn; self.format = format }
    }
    public var apiId: CFString
    public var stageName: String
    public var description: String
    public var burstLimit: Int
    public var rateLimit: Int
    public var accessLog: AccessLog?
    public init(apiId: CFString, stageName: String, description: String, burstLimit: Int, rateLimit: Int,
                accessLog: AccessLog? = nil) {
        self.apiId = apiId
        self.stageName = stageName
        self.description = description
        self.burstLimit = burstLimit
        self.rateLimit = rateLimit
        self.accessLog = accessLog
    }
    public var properties: JSON {
        props([
            "ApiId": apiId, "StageName": stageName, "Description": description,
            // Routes and integrations change with the template; redeploy them with it.
            "AutoDeploy": true,
            "DefaultRouteSettings": props(["ThrottlingBurstLimit": burstLimit, "ThrottlingRateLimit": rateLimit]),
            "AccessLogSettings": accessLog.map { props(["DestinationArn": $0.destinationArn, "Format": $0.format]) },
        ])
    }
}

public struct GatewayIntegration: Resource {
    public static let typeName = "AWS::ApiGatewayV2::Integration"
    public var apiId: CFString
    public var description: String
    public var uri: CFString
    /// "2.0" for HTTP APIs; WebSocket APIs have no payload format.
    public var payloadFormatVersion: String?
    public init(apiId: CFString, description: String, uri: CFString, payloadFormatVersion: String?) {
        self.apiId = apiId
        self.description = description
        self.uri = uri
        self.payloadFormatVersion = payloadFormatVersion
    }
    public var properties: JSON {
        props(["ApiId": apiId, "Description": description, "IntegrationType": "AWS_PROXY", "IntegrationUri": uri,
               "PayloadFormatVersion": payloadFormatVersion])
    }
}

public struct GatewayRoute: Resource {
    public static let typeName = "AWS::ApiGatewayV2::Route"
    public var apiId: CFString
    public var routeKey: String
    public var integration: Handle<GatewayIntegration>
    public var authorizer: Handle<GatewayAuthorizer>?
    public init(apiId: CFString, routeKey: String, integration: Handle<GatewayIntegration>,
                authorizer: Handle<GatewayAuthorizer>? = nil) {
        self.apiId = apiId
        self.routeKey = routeKey
        self.integration = integration
        self.authorizer = authorizer
    }
    public var properties: JSON {
        props([
            "ApiId": apiId, "RouteKey": routeKey,
            "Target": "integrations/\(integration.ref)" as CFString,
            "AuthorizationType": authorizer == nil ? "NONE" : "CUSTOM",
            "AuthorizerId": authorizer?.ref,
        ])
    }
}

/// A Lambda REQUEST authorizer.
public struct GatewayAuthorizer: Resource {
    public static let typeName = "AWS::ApiGatewayV2::Authorizer"
    public var apiId: CFString
    public var name: String
    public var uri: CFString
    public var identitySource: [String]
    /// HTTP APIs: payload 2.0 with `{"isAuthorized": …}` answers and no caching
    /// (a rotated key must be refused at once). `nil` for WebSocket APIs.
    public var httpSimpleResponses: Bool
    public init(apiId: CFString, name: String, uri: CFString, identitySource: [String], httpSimpleResponses: Bool) {
        self.apiId = apiId
        self.name = name
        self.uri = uri
        self.identitySource = identitySource
        self.httpSimpleResponses = httpSimpleResponses
    }
    public var properties: JSON {
        props([
            "ApiId": apiId, "Name": name, "AuthorizerType": "REQUEST", "AuthorizerUri": uri,
            "IdentitySource": identitySource,
            "AuthorizerPayloadFormatVersion": httpSimpleResponses ? "2.0" : nil,
            "EnableSimpleResponses": httpSimpleResponses ? true : nil,
            "AuthorizerResultTtlInSeconds": httpSimpleResponses ? 0 : nil,
        ])
    }
}
