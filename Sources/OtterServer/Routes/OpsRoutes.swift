import HTTPTypes
import Foundation
import Hummingbird
import NIOCore

/// `/healthz`, `/metrics` and `/openapi.json`: what operators and tools read.
struct OpsRoutes: Sendable {
    let store: StateStore
    let metrics: ServerMetrics
    let openAPI: ByteBuffer?

    func register(on router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in
            _ = try self.store.roomCount()  // proves the database answers
            return Response.json(["status": "ok"])
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.registry.emitToBuffer())))
        }
        router.get("/openapi.json") { _, _ in
            guard let doc = self.openAPI else { throw APIError(.notFound, "not-found", "no OpenAPI document is bundled") }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: doc))
        }
    }
}
