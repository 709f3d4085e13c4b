import HTTPTypes
import Foundation
import Hummingbird
import NIOCore
import OtterCore

/// `/config.js` for the web app: public endpoints only, never a secret.
struct WebAppRoutes: Sendable {
    let config: ServerConfiguration

    var configJS: String {
        let value: JSONValue = [
            "apiUrl": .string(config.baseURL),
            "signalUrl": .string(config.signalURL),
            "iceServersPath": "/rooms/{roomId}/ice-servers",
            "stunUrls": .array(config.stunURLs.map(JSONValue.string)),
        ]
        return "window.OTTER_CONFIG = \(value.compactText);\n"
    }

    func register(on router: Router<some RequestContext>) {
        let body = configJS
        router.get("/config.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }
}

/// Security headers for everything served: the app only talks to its own origin.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
        response.headers[HTTPField.Name("Permissions-Policy")!] = "camera=(self), microphone=(self), display-capture=(self)"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
