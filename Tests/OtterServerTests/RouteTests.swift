import HTTPTypes
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import OtterCore
import Testing
@testable import OtterServer

/// The REST routes through HummingbirdTesting, on a real in-memory SQLite store.
struct RouteTests {
    struct Fixture {
        let state: ServerState
        let apiKey: String
    }

    static func fixture() async throws -> Fixture {
        let store = try StateStore()
        let (secrets, key) = try store.bootstrap()
        let state = try await ServerState(config: ServerConfiguration(port: 8080), store: store, secrets: secrets)
        return Fixture(state: state, apiKey: key!.value)
    }

    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
    }

    static func errorCode(_ buffer: ByteBuffer) -> String? {
        (json(buffer)["error"] as? [String: Any])?["code"] as? String
    }

    @Test func createGetAndIceServers() async throws {
        let f = try await Self.fixture()
        let app = buildApplication(f.state)
        try await app.test(.router) { client in
            let created = try await client.execute(uri: "/rooms", method: .post, headers: [HTTPField.Name("x-api-key")!: f.apiKey],
                                                   body: ByteBuffer(string: #"{"maxPeers":3,"ttlSeconds":600}"#))
            #expect(created.status == .created)
            let room = Self.json(created.body)
            let id = try #require(room["roomId"] as? String)
            let token = try #require(room["token"] as? String)
            #expect(room["maxPeers"] as? Int == 3)
            #expect(room["url"] as? String == "http://127.0.0.1:8080/?room=\(id)#token=\(token)")
            let expiresAt = try #require(room["expiresAt"] as? Int)
            // Generous: the machine may be loaded between creation and this check.
            #expect(abs(expiresAt - Int(Date().timeIntervalSince1970) - 600) <= 30)

            let got = try await client.execute(uri: "/rooms/\(id)", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(got.status == .ok)
            #expect(Self.json(got.body)["maxPeers"] as? Int == 3)

            let ice = try await client.execute(uri: "/rooms/\(id)/ice-servers", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(ice.status == .ok)
            let servers = try #require(Self.json(ice.body)["iceServers"] as? [[String: Any]])
            let turn = try #require(servers.first { $0["username"] != nil })
            let username = try #require(turn["username"] as? String)
            #expect(username.hasSuffix(":\(id)"))
            #expect(turn["credential"] as? String == TurnCredentials.password(secret: f.state.secrets.turnSecret, username: username))
            #expect((turn["urls"] as? [String])?.contains("turn:127.0.0.1:3478?transport=udp") == true)
        }
    }

    /// A browser on another origin sends `Origin`: errors must keep their
    /// status and JSON body (CORS wraps errors; it once turned them into 500s).
    @Test func errorsFromAnotherOriginKeepTheirStatusAndBody() async throws {
        let f = try await Self.fixture()
        let app = buildApplication(f.state)
        try await app.test(.router) { client in
            let origin: HTTPFields = [.origin: "https://app.example"]
            let noKey = try await client.execute(uri: "/rooms", method: .post, headers: origin)
            #expect(noKey.status == .unauthorized)
            #expect(Self.errorCode(noKey.body) == "unauthorized")
            #expect(noKey.headers[.accessControlAllowOrigin] == "https://app.example")
            let forged = try await client.execute(uri: "/rooms/x", method: .get, headers: origin + [.authorization: "Bearer a.b.c"])
            #expect(forged.status == .unauthorized)
            #expect(Self.errorCode(forged.body) == "bad-token")
            let missing = try await client.execute(uri: "/nowhere", method: .get, headers: origin)
            #expect(missing.status == .notFound)
            #expect(Self.errorCode(missing.body) == "not-found")
        }
    }

    @Test func apiKeyAndTokenErrors() async throws {
        let f = try await Self.fixture()
        let app = buildApplication(f.state)
        try await app.test(.router) { client in
            let noKey = try await client.execute(uri: "/rooms", method: .post)
            #expect(noKey.status == .unauthorized)
            #expect(Self.errorCode(noKey.body) == "unauthorized")
            let wrong = try await client.execute(uri: "/rooms", method: .post, headers: [HTTPField.Name("x-api-key")!: "otk_wrong"])
            #expect(Self.errorCode(wrong.body) == "unauthorized")

            for body in [#"{"maxPeers":5}"#, #"{"maxPeers":"3"}"#, #"{"maxPeers":true}"#, #"{"ttlSeconds":-1}"#, "[2]", "{\"maxPeers\":"] {
                let r = try await client.execute(uri: "/rooms", method: .post, headers: [HTTPField.Name("x-api-key")!: f.apiKey], body: ByteBuffer(string: body))
                #expect(r.status == .badRequest, "body \(body)")
                #expect(Self.errorCode(r.body) == "bad-request")
            }
            let big = try await client.execute(uri: "/rooms", method: .post, headers: [HTTPField.Name("x-api-key")!: f.apiKey],
                                               body: ByteBuffer(string: "{\"x\":\"" + String(repeating: "a", count: 70_000) + "\"}"))
            #expect(big.status == .contentTooLarge)
            #expect(Self.errorCode(big.body) == "too-large")
            #expect(try f.state.store.roomCount() == 0)

            let noBearer = try await client.execute(uri: "/rooms/x", method: .get)
            #expect(noBearer.status == .unauthorized)
            #expect(Self.errorCode(noBearer.body) == "unauthorized")
            let forged = try await client.execute(uri: "/rooms/x", method: .get, headers: [.authorization: "Bearer a.b.c"])
            #expect(Self.errorCode(forged.body) == "bad-token")

            let expired = try await f.state.tokens.sign(RoomClaims(roomID: "x", maxPeers: 2, issuedAt: Date(timeIntervalSinceNow: -7200), expiresAt: Date(timeIntervalSinceNow: -60)))
            let exp = try await client.execute(uri: "/rooms/x", method: .get, headers: [.authorization: "Bearer \(expired)"])
            #expect(exp.status == .unauthorized)
            #expect(Self.errorCode(exp.body) == "token-expired")

            let unknown = try await f.state.tokens.sign(RoomClaims(roomID: "gone", maxPeers: 2, issuedAt: Date(), expiresAt: Date(timeIntervalSinceNow: 600)))
            let nf = try await client.execute(uri: "/rooms/gone", method: .get, headers: [.authorization: "Bearer \(unknown)"])
            #expect(nf.status == .notFound)
            #expect(Self.errorCode(nf.body) == "not-found")
            let other = try await client.execute(uri: "/rooms/elsewhere", method: .get, headers: [.authorization: "Bearer \(unknown)"])
            #expect(other.status == .forbidden)
        }
    }

    @Test func rotationRefusesTheOldKeyAndKeepsRooms() async throws {
        let f = try await Self.fixture()
        let app = buildApplication(f.state)
        try await app.test(.router) { client in
            let created = try await client.execute(uri: "/rooms", method: .post, headers: [HTTPField.Name("x-api-key")!: f.apiKey])
            let token = try #require(Self.json(created.body)["token"] as? String)
            let id = try #require(Self.json(created.body)["roomId"] as? String)
            let rotated = try await client.execute(uri: "/keys/rotate", method: .post, headers: [HTTPField.Name("x-api-key")!: f.apiKey])
            #expect(rotated.status == .ok)
            let newKey = try #require(Self.json(rotated.body)["apiKey"] as? String)
            #expect(newKey != f.apiKey)
            let old = try await client.execute(uri: "/rooms", method: .post, headers: [HTTPField.Name("x-api-key")!: f.apiKey])
            #expect(old.status == .unauthorized)
            let again = try await client.execute(uri: "/keys/rotate", method: .post, headers: [HTTPField.Name("x-api-key")!: f.apiKey])
            #expect(again.status == .unauthorized)
            let fresh = try await client.execute(uri: "/rooms", method: .post, headers: [HTTPField.Name("x-api-key")!: newKey])
            #expect(fresh.status == .created)
            let link = try await client.execute(uri: "/rooms/\(id)", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(link.status == .ok)
        }
    }

    @Test func opsRoutesAndConfigJS() async throws {
        let f = try await Self.fixture()
        let app = buildApplication(f.state)
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            _ = try await client.execute(uri: "/rooms", method: .post, headers: [HTTPField.Name("x-api-key")!: f.apiKey])
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(String(buffer: metrics.body).contains("otter_rooms_created_total 1"))
            let js = try await client.execute(uri: "/config.js", method: .get)
            let text = String(buffer: js.body)
            #expect(text.hasPrefix("window.OTTER_CONFIG = {"))
            #expect(text.contains(#""signalUrl":"ws://127.0.0.1:8080/signal""#))
            #expect(text.contains(#""iceServersPath":"/rooms/{roomId}/ice-servers""#))
            for secret in [f.state.secrets.signingSecret, f.state.secrets.turnSecret, f.apiKey] { #expect(!text.contains(secret)) }
            let missing = try await client.execute(uri: "/nope", method: .get)
            #expect(missing.status == .notFound)
            #expect(Self.errorCode(missing.body) == "not-found")
        }
    }

    /// Every route the router serves is in the OpenAPI document, and vice versa.
    @Test func openAPIDocumentMatchesRoutes() async throws {
        let f = try await Self.fixture()
        let served = Set(buildRouter(f.state).routes.filter { $0.method != .options }.map { "\($0.method.rawValue) \($0.path)" })
        let app = buildApplication(f.state)
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(r.status == .ok)
            let doc = Self.json(r.body)
            let paths = try #require(doc["paths"] as? [String: [String: Any]])
            let documented = Set(paths.flatMap { path, ops in ops.keys.map { "\($0.uppercased()) \(path)" } })
            // The cloud stack's operations (`x-otter-lambda`) are served here too: the REST API is the same in both modes.
            let apiRoutes = Set(paths.flatMap { path, ops in
                ops.filter { ($0.value as? [String: Any])?["x-otter-lambda"] != nil }.map { "\($0.key.uppercased()) \(path)" }
            })
            #expect(!apiRoutes.isEmpty)
            #expect(apiRoutes.isSubset(of: served))
            #expect(documented == served)
            // Each documented route answers with one of its documented statuses.
            let room = Self.json(try await client.execute(uri: "/rooms", method: .post, headers: [HTTPField.Name("x-api-key")!: f.apiKey]).body)
            let id = room["roomId"] as! String, token = room["token"] as! String
            for (method, path, headers) in [("GET", "/rooms/\(id)", [HTTPField.Name.authorization: "Bearer \(token)"]),
                                            ("GET", "/rooms/\(id)/ice-servers", [.authorization: "Bearer \(token)"]),
                                            ("GET", "/healthz", [:]), ("GET", "/rooms/\(id)", [:]),
                                            ("GET", "/signal?token=\(token)", [:]), ("GET", "/signal?token=x", [:]),
                                            ("GET", "/metrics", [:]), ("GET", "/config.js", [:]), ("GET", "/openapi.json", [:])] {
                let templ = String(path.replacingOccurrences(of: id, with: "{roomId}").prefix { $0 != "?" })
                let responses = (paths[templ]?[method.lowercased()] as? [String: Any])?["responses"] as? [String: Any] ?? [:]
                let res = try await client.execute(uri: path, method: method == "GET" ? .get : .post, headers: HTTPFields(headers.map { HTTPField(name: $0.key, value: $0.value) }))
                #expect(responses[String(res.status.code)] != nil, "\(method) \(templ) answered \(res.status.code)")
            }
        }
    }
}
