/// The Otter Lambda functions: logical ID, handler entry point, environment and
/// grants. The HTTP API has no Lambda authorizers: its handlers check the API key
/// and room token themselves, so a refusal carries DESIGN.md's `{"error":…}` body
/// (an authorizer's would be API Gateway's `{"message":"Forbidden"}`) and a request
/// costs one invocation, not two. This table is the contract with Templates/lambda: a handler
/// module must exist for every `handler`, and it may read only the listed
/// environment variables and call only the granted actions (the roles allow
/// nothing else). README.md in this folder prints the same table; a test checks
/// that the two agree.
public enum OtterFunction: String, CaseIterable, Sendable {
    case wsAuthorizer = "WsAuthorizer"
    case wsConnect = "WsConnect"
    case wsDisconnect = "WsDisconnect"
    case wsJoin = "WsJoin"
    case wsSignal = "WsSignal"
    case wsPing = "WsPing"
    case wsDefault = "WsDefault"
    case httpRooms = "HttpRooms"
    case httpIce = "HttpIce"
    case httpKeys = "HttpKeys"
    case httpHealth = "HttpHealth"

    /// Logical-ID stem: `<stem>Function`, `<stem>Role`, `<stem>Logs`.
    public var stem: String { rawValue }

    /// `module.function` inside the handlers zip (Templates/lambda/<module>.py).
    public var handler: String {
        switch self {
        case .wsAuthorizer: "ws_authorizer.handler"
        case .wsConnect: "ws_connect.handler"
        case .wsDisconnect: "ws_disconnect.handler"
        case .wsJoin: "ws_join.handler"
        case .wsSignal: "ws_signal.handler"
        case .wsPing: "ws_ping.handler"
        case .wsDefault: "ws_default.handler"
        case .httpRooms: "http_rooms.handler"
        case .httpIce: "http_ice.handler"
        case .httpKeys: "http_keys.handler"
        case .httpHealth: "http_health.handler"
        }
    }

    public var purpose: String {
        switch self {
        case .wsAuthorizer: "WebSocket $connect authorizer (room token in ?token=)"
        case .wsConnect: "WebSocket $connect: records connection -> room"
        case .wsDisconnect: "WebSocket $disconnect: peer-left to the others"
        case .wsJoin: "WebSocket join: capacity check, welcome, peer-joined"
        case .wsSignal: "WebSocket signal: relays to a peer of the same room"
        case .wsPing: "WebSocket ping: pong"
        case .wsDefault: "WebSocket $default: bad-message"
        case .httpRooms: "POST /rooms and GET /rooms/{roomId}"
        case .httpIce: "GET /rooms/{roomId}/ice-servers"
        case .httpKeys: "POST /keys/rotate"
        case .httpHealth: "GET /healthz"
        }
    }

    /// Environment variables the function receives (values are set by the stack).
    public var environment: [OtterEnv] {
        switch self {
        case .wsAuthorizer: [.roomsTable, .signingSecretArn]
        case .wsConnect: [.connectionsTable, .roomsTable, .signingSecretArn]
        case .wsDisconnect, .wsJoin, .wsSignal: [.connectionsTable, .roomsTable, .wsEndpoint]
        case .wsPing, .wsDefault: [.wsEndpoint]
        case .httpRooms: [.configTable, .roomsTable, .signingSecretArn, .webAppUrl, .maxPeersDefault]
        case .httpIce: [.roomsTable, .signingSecretArn, .turnSecretArn, .turnUrls]
        case .httpKeys: [.configTable]
        case .httpHealth: []
        }
    }

    /// What the function's role allows, beyond writing to its own log group.
    public var grants: [Grant] {
        switch self {
        case .wsAuthorizer:
            [.table(.rooms, ["dynamodb:GetItem"]), .secret(.signing)]
        case .wsConnect:
            [.table(.connections, ["dynamodb:PutItem"]), .table(.rooms, ["dynamodb:GetItem"]), .secret(.signing)]
        case .wsDisconnect, .wsSignal:
            [.table(.connections, ["dynamodb:DeleteItem", "dynamodb:GetItem"]),
             .table(.rooms, ["dynamodb:GetItem", "dynamodb:UpdateItem"]), .postToConnections]
        case .wsJoin:
            [.table(.connections, ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]),
             .table(.rooms, ["dynamodb:GetItem", "dynamodb:UpdateItem"]), .postToConnections, .closeConnections,
             // GetConnection tells a stale seat (socket gone, row left) from a live one when the room is full.
             .getConnections]
        case .wsPing, .wsDefault:
            [.postToConnections]
        case .httpRooms:
            [.table(.config, ["dynamodb:GetItem"]), .table(.rooms, ["dynamodb:GetItem", "dynamodb:PutItem"]),
             .secret(.signing)]
        case .httpIce:
            [.table(.rooms, ["dynamodb:GetItem"]), .secret(.signing), .secret(.turn)]
        case .httpKeys:
            [.table(.config, ["dynamodb:GetItem", "dynamodb:UpdateItem"])]
        case .httpHealth:
            []
        }
    }
}

/// Environment variable names shared by the stack and the handlers.
public enum OtterEnv: String, CaseIterable, Sendable {
    case connectionsTable = "CONNECTIONS_TABLE"
    case roomsTable = "ROOMS_TABLE"
    case configTable = "CONFIG_TABLE"
    case signingSecretArn = "SIGNING_SECRET_ARN"
    case turnSecretArn = "TURN_SECRET_ARN"
    /// `https://<api>.execute-api.<region>.<suffix>/<stage>`, the management API endpoint.
    case wsEndpoint = "WS_ENDPOINT"
    /// `https://<distribution>.cloudfront.net`, for room links.
    case webAppUrl = "WEB_APP_URL"
    /// Default `maxPeers` of a new room (`otter template --max-peers`).
    case maxPeersDefault = "MAX_PEERS_DEFAULT"
    /// Comma-separated `turn:`/`stun:` URLs of the relay.
    case turnUrls = "TURN_URLS"
}

public enum OtterTable: String, CaseIterable, Sendable {
    case connections = "ConnectionsTable"
    case rooms = "RoomsTable"
    case config = "ConfigTable"
}

public enum OtterSecret: String, CaseIterable, Sendable {
    case signing = "SigningSecret"
    case turn = "TurnSecret"
}

public enum Grant: Sendable, Hashable {
    /// DynamoDB item actions on one of the stack's tables (never its indexes unless listed).
    case table(OtterTable, [String])
    /// `secretsmanager:GetSecretValue` on one of the stack's secrets.
    case secret(OtterSecret)
    /// `execute-api:ManageConnections` POST on this WebSocket API's stage.
    case postToConnections
    /// `execute-api:ManageConnections` DELETE (close a socket, e.g. room-full).
    case closeConnections
    /// `execute-api:ManageConnections` GET (GetConnection: is that socket still there?).
    case getConnections
}
