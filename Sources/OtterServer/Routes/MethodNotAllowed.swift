import HTTPTypes
import Hummingbird

/// The router answers 404 for a path it knows asked with a method it does not
/// (`DELETE /rooms`); RFC 9110 §15.5.6 wants 405 with `Allow`, which also
/// tells a client its mistake is the method, not the URL.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods openapi.json documents for `path` (OPTIONS answers only CORS
    /// preflights, so it is not documented), or nil for a path it does not know.
    static func allowed(path: String) -> String? {
        let parts = path.split(separator: "/")
        return OpenAPIDocument.methodsByPath.first { route in
            route.segments.count == parts.count
                && zip(route.segments, parts).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }?.methods
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as HTTPError where e.status == .notFound {
            guard let allow = Self.allowed(path: request.uri.path) else { throw e }
            throw APIError(.methodNotAllowed, "method-not-allowed", "\(request.method.rawValue.prefix(20)) is not supported here; use \(allow)", allow: allow)
        }
    }
}
