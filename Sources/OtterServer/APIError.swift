import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OtterCore

/// An HTTP error with DESIGN's body `{"error":{"code","message"}}`.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// The `Allow` header of a 405: the methods the path does answer.
    public var allow: String?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, allow: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.allow = allow
    }

    public init(_ error: OtterError) {
        switch error.code {
        case .tokenExpired: self.init(.unauthorized, "token-expired", error.message)
        case .badToken: self.init(.unauthorized, "bad-token", error.message)
        case .unauthorized: self.init(.unauthorized, "unauthorized", error.message)
        case .forbidden: self.init(.forbidden, "forbidden", error.message)
        case .notFound: self.init(.notFound, "not-found", error.message)
        case .tooLarge: self.init(.contentTooLarge, "too-large", error.message)
        case .badRequest, .badMessage: self.init(.badRequest, "bad-request", error.message)
        default: self.init(.internalServerError, "internal", "something went wrong on the server")
        }
    }

    public var headers: HTTPFields {
        var h: HTTPFields = [.contentType: "application/json"]
        if let allow { h[.allow] = allow }
        return h
    }

    /// DESIGN's error body.
    public var body: ByteBuffer {
        let body: JSONValue = ["error": ["code": .string(code), "message": .string(message)]]
        return ByteBuffer(string: body.compactText)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

/// Turns any error a route throws into DESIGN's JSON shape, so no client
/// ever sees Hummingbird's plain-text defaults.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as APIError {
            throw e
        } catch let e as OtterError {
            throw APIError(e)
        } catch let e as HTTPError {
            let code: String
            switch e.status {
            case .notFound: code = "not-found"
            case .methodNotAllowed: code = "method-not-allowed"
            case .contentTooLarge: code = "too-large"
            case .unauthorized: code = "unauthorized"
            default: code = e.status.code < 500 ? "bad-request" : "internal"
            }
            throw APIError(e.status, code, e.body ?? e.status.reasonPhrase)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, "internal", "something went wrong on the server")
        }
    }
}
