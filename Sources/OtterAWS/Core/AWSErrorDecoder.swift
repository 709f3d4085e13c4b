import Foundation

/// Turns an error response into an `AWSError` with the service's own code and
/// message, whatever the protocol: Query/REST XML, S3's bare `<Error>`, or JSON.
enum AWSErrorDecoder {
    static func decode(_ response: HTTPResponse, service: AWSService) -> AWSError {
        var code: String?
        var message: String?
        var requestID = response.header("x-amzn-RequestId") ?? response.header("x-amz-request-id")
        let body = response.body
        if let first = body.first(where: { !($0 == 32 || $0 == 10 || $0 == 13 || $0 == 9) }) {
            if first == UInt8(ascii: "<"), let xml = try? XMLNode.parse(body) {
                let err = xml.find("Error") ?? xml
                code = err.string("Code")
                message = err.string("Message")
                requestID = requestID ?? xml.string("RequestId") ?? err.string("RequestId")
            } else if first == UInt8(ascii: "{"),
                      let obj = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
                code = (obj["__type"] as? String) ?? (obj["code"] as? String) ?? (obj["Code"] as? String)
                message = (obj["message"] as? String) ?? (obj["Message"] as? String)
            }
        }
        if code == nil, let t = response.header("x-amzn-ErrorType") { code = t }
        // JSON protocols send "namespace#Code" and sometimes ":http://..." suffixes.
        if let c = code {
            code = String(c.split(separator: "#").last ?? Substring(c)).split(separator: ":").first.map(String.init)
        }
        if code == nil {
            // HEAD answers carry no body; S3 says what the status means.
            switch response.status {
            case 301: code = "PermanentRedirect"; message = "the bucket is in another region (\(response.header("x-amz-bucket-region") ?? "unknown"))"
            case 403: code = "Forbidden"
            case 404: code = "NotFound"
            default: break
            }
        }
        let fallback = "HTTP \(response.status)" + (body.isEmpty ? "" : ": " + String(decoding: body.prefix(300), as: UTF8.self))
        return AWSError(.service, service: service.displayName, serviceCode: code,
                        message: message ?? (code == nil ? fallback : "HTTP \(response.status)"),
                        statusCode: response.status, requestID: requestID)
    }
}
