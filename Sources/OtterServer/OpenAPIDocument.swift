import Foundation
import NIOCore

/// The OpenAPI 3 description of the REST API, kept as a resource of this
/// module so the server, its tests and other tools read the same file.
enum OpenAPIDocument {
    static func load() -> ByteBuffer? {
        data().map { ByteBuffer(bytes: $0) }
    }

    /// Every documented path as segments (a `{parameter}` segment matches any
    /// one segment) with the methods it serves, upper-case and sorted: the
    /// 405 answer's `Allow` comes from the document, which tests hold equal to
    /// the router, so the two cannot drift.
    static let methodsByPath: [(segments: [Substring], methods: String)] = {
        guard let data = data(),
              let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let paths = doc["paths"] as? [String: [String: Any]]
        else { return [] }
        return paths.keys.sorted().map { path in
            (path.split(separator: "/"), paths[path]!.keys.filter(httpMethods.contains).map { $0.uppercased() }.sorted().joined(separator: ", "))
        }
    }()

    /// A path item's other keys (`parameters`, `summary`, …) are not methods.
    private static let httpMethods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    private static func data() -> Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }
}
