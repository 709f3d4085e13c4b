/// The Lambda functions of `OtterFunction`: one role, one log group and one
/// function each. Roles are built from `OtterFunction.grants` and nothing else.
enum Functions {
    static func add(to t: inout Template, params: Params, data: DataStores, signal: SignalingApi,
                    webAppUrl: CFString, turnUrls: CFString) -> [OtterFunction: Handle<LambdaFunction>] {
        let values: [OtterEnv: CFString] = [
            .connectionsTable: data.tables[.connections]!.ref,
            .roomsTable: data.tables[.rooms]!.ref,
            .configTable: data.tables[.config]!.ref,
            .signingSecretArn: data.secrets[.signing]!.arn,
            .turnSecretArn: data.secrets[.turn]!.arn,
            .wsEndpoint: signal.managementEndpoint,
            .webAppUrl: webAppUrl,
            .maxPeersDefault: params.maxPeers.string,
            .turnUrls: turnUrls,
        ]
        var functions: [OtterFunction: Handle<LambdaFunction>] = [:]
        for fn in OtterFunction.allCases {
            let logs = t.add("\(fn.stem)Logs", LogGroup(retentionInDays: OtterStack.logRetentionDays))
            let statements = [PolicyStatement(sid: "OwnLogs", allow: ["logs:CreateLogStream", "logs:PutLogEvents"], on: [logs.arn])]
                + fn.grants.map { statement(for: $0, data: data, signal: signal) }
            let role = t.add("\(fn.stem)Role", IAMRole(
                description: "Otter \(fn.handler): \(fn.purpose)", assumedBy: "lambda.amazonaws.com",
                policies: [(name: "least-privilege", document: PolicyDocument(statements))]))
            var environment: [String: CFString] = [:]
            for name in fn.environment { environment[name.rawValue] = values[name]! }
            functions[fn] = t.add("\(fn.stem)Function", LambdaFunction(
                description: "Otter \(fn.purpose)", handler: fn.handler, role: role.arn,
                codeBucket: params.codeBucket, codeKey: params.codeKey, environment: environment, logGroup: logs.ref))
        }
        return functions
    }

    static func statement(for grant: Grant, data: DataStores, signal: SignalingApi) -> PolicyStatement {
        let connections: CFString = "\(signal.api.executeArn)/\(OtterStack.signalStage)"
        switch grant {
        case .table(let table, let actions):
            return PolicyStatement(sid: table.rawValue, allow: actions.sorted(), on: [data.tables[table]!.arn])
        case .secret(let secret):
            return PolicyStatement(sid: secret.rawValue, allow: ["secretsmanager:GetSecretValue"], on: [data.secrets[secret]!.arn])
        case .postToConnections:
            return PolicyStatement(sid: "PostToConnections", allow: ["execute-api:ManageConnections"],
                                   on: ["\(connections)/POST/@connections/*"])
        case .closeConnections:
            return PolicyStatement(sid: "CloseConnections", allow: ["execute-api:ManageConnections"],
                                   on: ["\(connections)/DELETE/@connections/*"])
        case .getConnections:
            return PolicyStatement(sid: "GetConnections", allow: ["execute-api:ManageConnections"],
                                   on: ["\(connections)/GET/@connections/*"])
        }
    }
}
