// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "otter",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "otter", targets: ["otter"]),
        .executable(name: "otter-relay", targets: ["otter-relay"]),
    ],
    dependencies: [
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // The TURN REST credential scheme (coturn's use-auth-secret) the server hands out and the
        // relay checks: its own module so the relay-only binary needs neither JWTKit nor Foundation.
        .target(
            name: "OtterTurnCredentials",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Domain rules (tokens, API keys, TURN credentials, signaling messages). No I/O.
        .target(
            name: "OtterCore",
            dependencies: [
                "OtterTurnCredentials",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),
        // The data folder (`.otter`): the name of every file in it, and the small reads and
        // writes of keys and records. Foundation only, so the server, deploy and CLI share it.
        .target(name: "OtterLocalState"),
        // libcurl, the HTTP transport for AWS calls.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // zlib, the gzip compressor for OCI image layers.
        .systemLibrary(
            name: "COtterZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Daemonless OCI image builder: tar/gzip layers, ELF dependency closure, OCI layout writer.
        .target(
            name: "OtterImage",
            dependencies: [
                "COtterZlib",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // SigV4, credential chain, AWS clients over libcurl.
        .target(
            name: "OtterAWS",
            dependencies: [
                "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A client of Otter's own REST API (local or deployed) over OtterAWS's libcurl transport.
        .target(name: "OtterClient", dependencies: ["OtterAWS"]),
        // `otter up`: REST API, WebSocket signaling, web app, SQLite state, embedded relay.
        .target(
            name: "OtterServer",
            dependencies: [
                "OtterCore",
                "OtterLocalState",
                "OtterRelay",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources/openapi.json")]
        ),
        // Typed CloudFormation model and the Otter stack. Foundation-free: fast to build and to run.
        .target(name: "OtterStacks", exclude: ["README.md"]),
        // recvmmsg and epoll for the relay's UDP pump (Linux; empty elsewhere).
        .target(name: "CRelayIO"),
        // STUN/TURN codec and server on SwiftNIO, coturn-style configuration.
        .target(
            name: "OtterRelay",
            dependencies: [
                "OtterTurnCredentials",
                "CRelayIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `otter deploy` / `otter destroy`: packaging, change sets, events, web app upload, local state.
        .target(
            name: "OtterDeploy",
            dependencies: [
                "OtterCore",
                "OtterAWS",
                "OtterClient",
                "OtterLocalState",
                "OtterStacks",
                "OtterImage",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "otter",
            dependencies: [
                "OtterCore",
                "OtterAWS",
                "OtterServer",
                "OtterStacks",
                "OtterRelay",
                "OtterDeploy",
                "OtterClient",
                "OtterLocalState",
                "OtterImage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The relay alone (`otter relay` execs it when it sits beside `otter`): a process that
        // maps no Hummingbird, GRDB, libcurl or FoundationXML, so an idle relay stays small.
        .executableTarget(
            name: "otter-relay",
            dependencies: ["OtterRelay"]
        ),
        .testTarget(name: "OtterCoreTests", dependencies: ["OtterCore"]),
        .testTarget(name: "OtterLocalStateTests", dependencies: ["OtterLocalState"]),
        .testTarget(
            name: "OtterServerTests",
            dependencies: [
                "OtterServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "OtterAWSTests", dependencies: ["OtterAWS"], exclude: ["Fixtures"]),
        .testTarget(name: "OtterDeployTests", dependencies: ["OtterDeploy", "OtterImage", "OtterAWS", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .testTarget(name: "OtterImageTests", dependencies: ["OtterImage"]),
        .testTarget(name: "OtterStacksTests", dependencies: ["OtterStacks"], exclude: ["Golden"]),
        .testTarget(
            name: "OtterRelayTests",
            dependencies: [
                "OtterRelay",
                "OtterCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
