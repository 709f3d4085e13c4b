import Foundation

/// The AWS SDKs' "standard" retry mode: up to 3 attempts, exponential backoff
/// with full jitter, only for throttling, transient 5xx and connection failures.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxBackoff: Duration

    public init(maxAttempts: Int = 3, baseDelay: Duration = .seconds(1), maxBackoff: Duration = .seconds(20)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxBackoff = maxBackoff
    }

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    ]
    static let transientCodes: Set<String> = ["RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable"]

    /// Whether a failed attempt may be repeated. A 4xx is the caller's mistake
    /// and is never retried, unless the service says it is throttling.
    public func isRetryable(_ error: AWSError) -> Bool {
        switch error.code {
        case .transport: return true
        case .service:
            if let c = error.serviceCode, Self.throttlingCodes.contains(c) || Self.transientCodes.contains(c) { return true }
            if let s = error.statusCode { return s == 429 || [500, 502, 503, 504].contains(s) }
            return false
        default: return false
        }
    }

    /// Delay before attempt `attempt + 1` (attempt counts from 1).
    public func delay(afterAttempt attempt: Int) -> Duration {
        let ceiling = min(baseDelay * (1 << min(attempt - 1, 16)), maxBackoff)
        return ceiling * Double.random(in: 0...1)
    }
}
