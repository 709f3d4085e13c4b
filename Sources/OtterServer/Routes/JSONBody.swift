import HTTPTypes
import Foundation
import Hummingbird
import NIOCore
import OtterCore

/// Request bodies of the REST API (Templates/limits.json "maxBodyBytes").
enum JSONBody {
    static let maxBytes = 64 * 1024
}

extension Request {
    /// Reads a JSON object body of at most `limit` bytes; an empty body is `{}`.
    mutating func jsonObjectBody(limit: Int = JSONBody.maxBytes) async throws -> [String: JSONValue] {
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "too-large", ErrorWording.bodyTooLarge(limit))
        }
        guard buffer.readableBytes > 0 else { return [:] }
        // No Content-Type is taken as JSON (a bare `curl --data-binary`
        // sends none); any other type is refused, as the Lambda API does.
        if let type = headers[.contentType],
           type.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() != "application/json" {
            throw APIError(.unsupportedMediaType, "unsupported-media-type", ErrorWording.bodyNotJSON)
        }
        let bytes = buffer.readableBytesView
        // RFC 8259 §8.1: senders must not add a BOM. Foundation skips one and
        // Python refuses it; both refuse, so a body means the same everywhere.
        guard !bytes.starts(with: [0xEF, 0xBB, 0xBF]) else {
            throw APIError(.badRequest, "bad-request", "the body must be a JSON object (without a byte order mark)")
        }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)),
              case .object(let object) = value
        else { throw APIError(.badRequest, "bad-request", ErrorWording.bodyNotObject) }
        if let key = JSONDuplicateKeys.first(in: bytes) {
            throw APIError(.badRequest, "bad-request", "the body has \"\(key.prefix(40))\" twice; send each field once")
        }
        return object
    }
}

extension Response {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: value.compactText)))
    }
}

extension JSONValue {
    /// An integral number, refusing booleans, strings and fractions.
    var intValue: Int? {
        if case .number(let n) = self, n.rounded() == n, abs(n) < 1e15 { return Int(n) }
        return nil
    }
}
