/// API Gateway's account settings in this region (a singleton, not an API):
/// the role API Gateway assumes to write the logs of REST and WebSocket APIs.
/// Without it a WebSocket stage with access logs is refused ("CloudWatch Logs
/// role ARN must be set in account settings to enable logging"); HTTP APIs do
/// not need it.
public struct GatewayAccount: Resource {
    public static let typeName = "AWS::ApiGateway::Account"
    public var cloudWatchRoleArn: CFString
    public init(cloudWatchRoleArn: CFString) { self.cloudWatchRoleArn = cloudWatchRoleArn }
    public var properties: JSON { props(["CloudWatchRoleArn": cloudWatchRoleArn]) }
}
