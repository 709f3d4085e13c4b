/// A Python function whose code is a zip in S3.
public struct LambdaFunction: Taggable {
    public static let typeName = "AWS::Lambda::Function"
    public var description: String
    public var handler: String
    public var runtime = "python3.12"
    /// arm64 (Graviton): cheaper per ms; the handlers are pure Python.
    public var architecture = "arm64"
    public var role: CFString
    public var codeBucket: CFString
    public var codeKey: CFString
    public var environment: [String: CFString]
    public var memorySize = 256
    public var timeout = 10
    public var logGroup: CFString

    public init(description: String, handler: String, role: CFString, codeBucket: CFString, codeKey: CFString,
                environment: [String: CFString], logGroup: CFString) {
        self.description = description
        self.handler = handler
        self.role = role
        self.codeBucket = codeBucket
        self.codeKey = codeKey
        self.environment = environment
        self.logGroup = logGroup
    }

    public var properties: JSON {
        props([
            "Description": description,
            "Handler": handler,
            "Runtime": runtime,
            "Architectures": [architecture],
            "Role": role,
            "Code": props(["S3Bucket": codeBucket, "S3Key": codeKey]),
            "Environment": environment.isEmpty ? nil : props(["Variables": environment]),
            "MemorySize": memorySize,
            "Timeout": timeout,
            // Our own log group (with retention) instead of the implicit /aws/lambda one.
            "LoggingConfig": props(["LogGroup": logGroup]),
        ])
    }
}

extension Handle where R == LambdaFunction {
    public var arn: CFString { getAtt("Arn") }
    /// The URI API Gateway invokes (`…:apigateway:<region>:lambda:path/…/invocations`).
    public var invocationUri: CFString {
        "arn:\(Pseudo.partition):apigateway:\(Pseudo.region):lambda:path/2015-03-31/functions/\(arn)/invocations"
    }
}

/// Lets one API Gateway source (a route or an authorizer of one API) invoke a function.
public struct LambdaPermission: Resource {
    public static let typeName = "AWS::Lambda::Permission"
    public var functionName: CFString
    public var principal: String
    public var sourceArn: CFString

    public init(functionName: CFString, principal: String, sourceArn: CFString) {
        self.functionName = functionName
        self.principal = principal
        self.sourceArn = sourceArn
    }

    public var properties: JSON {
        props([
            "Action": "lambda:InvokeFunction", "FunctionName": functionName, "Principal": principal,
            "SourceArn": sourceArn, "SourceAccount": Pseudo.accountId,
        ])
    }
}

public struct LogGroup: Taggable {
    public static let typeName = "AWS::Logs::LogGroup"
    public var retentionInDays: Int
    public init(retentionInDays: Int) { self.retentionInDays = retentionInDays }
    public var properties: JSON { props(["RetentionInDays": retentionInDays]) }
}

extension Handle where R == LogGroup {
    /// `arn:…:log-group:NAME:*` — covers the group's streams.
    public var arn: CFString { getAtt("Arn") }
}
