import HTTPTypes
import Foundation
import Hummingbird
import NIOCore
import OtterCore

extension Request {
    /// Reads a JSON object body of at most `limit` bytes; an empty body is `{}`.
    mutating func jsonObjectBody(limit: Int = 64 * 1024) async throws -> [String: JSONValue] {
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "too-large", "the request body is limited to \(limit) bytes")
        }
        guard buffer.readableBytes > 0 else { return [:] }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView)),
              case .object(let object) = value
        else { throw APIError(.badRequest, "bad-request", "the body must be a JSON object") }
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
