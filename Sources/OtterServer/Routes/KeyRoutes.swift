import HTTPTypes
import Hummingbird
import OtterCore

/// `POST /keys/rotate`: a new API key, returned once; the old one stops working at once.
struct KeyRoutes: Sendable {
    let store: StateStore
    let auth: RequestAuth
    let metrics: ServerMetrics

    func register(on router: Router<some RequestContext>) {
        router.post("/keys/rotate") { request, _ in
            try self.auth.requireAPIKey(request)
            let old = APIKey.hash(of: request.headers[HTTPField.Name("x-api-key")!] ?? "")
            let key = APIKey.generate()
            guard try self.store.replaceAPIKeyHash(old: old, new: key.hash) else {
                throw APIError(.unauthorized, "unauthorized", "the API key was rotated by another request")
            }
            self.metrics.keyRotations.increment()
            return Response.json(["apiKey": .string(key.value)])
        }
    }
}
