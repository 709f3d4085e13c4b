/// The web app: a private bucket served only through CloudFront (origin access control).
struct WebApp {
    let bucket: Handle<PrivateBucket>
    let distribution: Handle<S3Distribution>
    let url: CFString

    static let permissionsPolicy = "camera=(self), microphone=(self), display-capture=(self)"

    /// The CSP: the app's own files, camera/microphone streams, and connections to
    /// the signaling API (exact origin) and to the REST API. The REST API origin is
    /// given as this region's execute-api domain: the HTTP API's CORS names the
    /// distribution's domain, so the distribution's headers policy cannot also name
    /// the HTTP API (a dependency cycle CloudFormation refuses).
    static func contentSecurityPolicy(signalApi: Handle<GatewayApi>) -> CFString {
        let executeApi: CFString = "execute-api.\(Pseudo.region).\(Pseudo.urlSuffix)"
        return Fn.join("; ", [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob: mediastream:",
            "connect-src 'self' https://*.\(executeApi) wss://\(signalApi.ref).\(executeApi)",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ])
    }

    static func add(to t: inout Template, signalApi: Handle<GatewayApi>) -> WebApp {
        let bucket = t.add("SiteBucket", PrivateBucket())
        let oac = t.add("SiteOriginAccessControl", OriginAccessControl(
            name: "\(Pseudo.stackName)-\(Pseudo.region)-site", description: "Otter web app: CloudFront signs requests to the site bucket"))
        let headers = t.add("SiteHeadersPolicy", ResponseHeadersPolicy(
            name: "\(Pseudo.stackName)-\(Pseudo.region)-site", contentSecurityPolicy: contentSecurityPolicy(signalApi: signalApi),
            permissionsPolicy: permissionsPolicy, hstsMaxAgeSeconds: 63_072_000))
        let distribution = t.add("SiteDistribution", S3Distribution(
            comment: "Otter web app (\(Pseudo.stackName))", bucketDomainName: bucket.regionalDomainName,
            originAccessControlId: oac.id, responseHeadersPolicyId: headers.ref, defaultRootObject: "index.html"))
        // Reads by this distribution only: no public principal, no writes.
        t.add("SiteBucketPolicy", BucketPolicy(bucket: bucket.ref, document: PolicyDocument([
            PolicyStatement(sid: "CloudFrontReadsSite", allow: ["s3:GetObject"], on: ["\(bucket.arn)/*"],
                            principal: .service("cloudfront.amazonaws.com"),
                            condition: ["StringEquals": ["AWS:SourceArn": CFString(
                                "arn:\(Pseudo.partition):cloudfront::\(Pseudo.accountId):distribution/\(distribution.ref)").json]]),
        ])))
        return WebApp(bucket: bucket, distribution: distribution, url: "https://\(distribution.domainName)")
    }
}
