/// Every failure of an AWS call, decoded: the service's own code and message
/// when it sent one, otherwise what went wrong on the way.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The service answered with an error (see `serviceCode`).
        case service
        /// No answer: connection refused, DNS, timeout, TLS.
        case transport
        /// Credentials missing or incomplete.
        case credentials
        /// Region missing or malformed.
        case region
        /// The answer could not be read.
        case decoding
    }

    public var code: Code
    /// e.g. "CloudFormation"
    public var service: String?
    /// The service's error code, e.g. "ValidationError".
    public var serviceCode: String?
    public var message: String
    public var statusCode: Int?
    public var requestID: String?

    public init(_ code: Code, service: String? = nil, serviceCode: String? = nil, message: String, statusCode: Int? = nil, requestID: String? = nil) {
        self.code = code
        self.service = service
        self.serviceCode = serviceCode
        self.message = message
        self.statusCode = statusCode
        self.requestID = requestID
    }

    /// `CloudFormation: ValidationError: Stack with id x does not exist`
    public var description: String {
        [service, serviceCode, message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
    }

    /// The signature or key was refused: wrong secret or unknown key id.
    public var isAuthenticationFailure: Bool {
        guard let c = serviceCode else { return false }
        return ["SignatureDoesNotMatch", "InvalidClientTokenId", "InvalidAccessKeyId", "UnrecognizedClientException",
                "AuthFailure", "IncompleteSignature", "MissingAuthenticationToken", "ExpiredToken", "ExpiredTokenException",
                "InvalidSignatureException"].contains(c)
    }
}
