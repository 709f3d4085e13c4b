import CCurl
import Foundation
import Synchronization

/// HTTP over libcurl's easy interface. Each request runs on a worker thread
/// (libcurl blocks), and easy handles are kept in a small pool so keep-alive
/// connections to the same endpoint are reused across calls.
public final class CurlTransport: HTTPTransport {
    public struct Timeouts: Sendable {
        public var connect: Duration
        public var total: Duration
        public init(connect: Duration = .seconds(10), total: Duration = .seconds(120)) {
            self.connect = connect
            self.total = total
        }
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()
    private let pool = Mutex<[HandleBox]>([])
    private let timeouts: Timeouts
    private let maxPooled = 8

    public init(timeouts: Timeouts = Timeouts()) {
        _ = Self.globalInit
        self.timeouts = timeouts
    }

    deinit {
        pool.withLock { $0.removeAll() }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let handle = pool.withLock { $0.popLast() } ?? HandleBox()
        let result: Result<HTTPResponse, AWSError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [timeouts] in
                continuation.resume(returning: Self.perform(request, on: handle.handle, timeouts: timeouts))
            }
        }
        pool.withLock { if $0.count < maxPooled { $0.append(handle) } }
        return try result.get()
    }

    private static func perform(_ request: HTTPRequest, on h: UnsafeMutableRawPointer, timeouts: Timeouts) -> Result<HTTPResponse, AWSError> {
        curl_easy_reset(h)
        let sink = ResponseSink()
        let sinkPtr = Unmanaged.passUnretained(sink).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        otter_curl_setopt_str(h, CURLOPT_URL, request.url.absoluteString)
        otter_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        otter_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(timeouts.connect.components.seconds * 1000))
        otter_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(timeouts.total.components.seconds * 1000))
        otter_curl_setopt_write(h, CURLOPT_WRITEFUNCTION, { ptr, size, count, user in
            guard let ptr, let user else { return 0 }
            let n = size * count
            Unmanaged<ResponseSink>.fromOpaque(user).takeUnretainedValue().body.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: n))
            return n
        })
        otter_curl_setopt_ptr(h, CURLOPT_WRITEDATA, sinkPtr)
        otter_curl_setopt_write(h, CURLOPT_HEADERFUNCTION, { ptr, size, count, user in
            guard let ptr, let user else { return 0 }
            let n = size * count
            let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
            Unmanaged<ResponseSink>.fromOpaque(user).takeUnretainedValue().addHeaderLine(line)
            return n
        })
        otter_curl_setopt_ptr(h, CURLOPT_HEADERDATA, sinkPtr)

        // curl adds Expect: 100-continue for large bodies and a form Content-Type for
        // POSTs; both would change what was signed or cost a round trip.
        var headers = request.headers
        headers.append(("Expect", ""))
        if !headers.contains(where: { $0.0.lowercased() == "content-type" }) { headers.append(("Content-Type", "")) }
        for (name, value) in headers {
            headerList = curl_slist_append(headerList, value.isEmpty ? "\(name):" : "\(name): \(value)")
        }
        otter_curl_setopt_ptr(h, CURLOPT_HTTPHEADER, headerList)

        let method = request.method.uppercased()
        let code: CURLcode = request.body.withUnsafeBytes { body in
            switch method {
            case "GET": otter_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
            case "HEAD": otter_curl_setopt_long(h, CURLOPT_NOBODY, 1)
            default:
                if method != "POST" { otter_curl_setopt_str(h, CURLOPT_CUSTOMREQUEST, method) }
                otter_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                otter_curl_setopt_ptr(h, CURLOPT_POSTFIELDS, body.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)
                if body.isEmpty { otter_curl_setopt_str(h, CURLOPT_POSTFIELDS, "") }
            }
            return curl_easy_perform(h)
        }
        guard code == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(code))
            return .failure(AWSError(.transport, message: "\(method) \(request.url.host ?? request.url.absoluteString): \(reason)"))
        }
        var status = 0
        otter_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: sink.headers, body: sink.body))
    }
}

/// An easy handle owned by the pool; cleaned up when the pool drops it.
private final class HandleBox: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    init() { handle = curl_easy_init() }
    deinit { curl_easy_cleanup(handle) }
}

/// Collects one response; only touched by the thread running curl_easy_perform.
private final class ResponseSink {
    var body: [UInt8] = []
    var headers: [(String, String)] = []

    func addHeaderLine(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") { headers.removeAll(); return }  // a new response (after 100 Continue or a redirect)
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        headers.append((String(trimmed[..<colon]), trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
    }
}
