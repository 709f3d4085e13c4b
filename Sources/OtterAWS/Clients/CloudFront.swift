import Foundation

/// CloudFront: only invalidations, so a new web app is served at once.
public struct CloudFront: Sendable {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    /// Starts an invalidation of `paths` and returns its id.
    public func createInvalidation(distributionID: String, paths: [String], callerReference: String = UUID().uuidString) async throws -> String {
        let items = paths.map { "<Path>\(XMLNode.escape($0))</Path>" }.joined()
        let body = """
        <?xml version="1.0" encoding="UTF-8"?>
        <InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Paths><Quantity>\(paths.count)</Quantity><Items>\(items)</Items></Paths><CallerReference>\(XMLNode.escape(callerReference))</CallerReference></InvalidationBatch>
        """
        let r = try await client.send(.cloudFront, method: "POST",
                                      path: "/2020-05-31/distribution/\(URIEncoding.encode(distributionID))/invalidation",
                                      headers: [("Content-Type", "application/xml")], body: Array(body.utf8))
        return (try? XMLNode.parse(r.body).string("Id")) ?? ""
    }
}
