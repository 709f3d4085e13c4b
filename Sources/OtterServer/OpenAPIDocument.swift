import Foundation
import NIOCore

/// The OpenAPI 3 description of the REST API, kept as a resource of this
/// module so the server, its tests and other tools read the same file.
enum OpenAPIDocument {
    static func load() -> ByteBuffer? {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
              let data = try? Data(contentsOf: url) else { return nil }
        return ByteBuffer(bytes: data)
    }
}
