// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "LocalDBProxy",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "LocalDBProxy", targets: ["LocalDBProxy"]),
        .library(name: "ServerALPN", targets: ["ServerALPN"]),
        .library(name: "ProxyCore", targets: ["ProxyCore"]),
        .library(name: "ProxyOperations", targets: ["ProxyOperations"]),
        .library(name: "WirePostgres", targets: ["WirePostgres"]),
        .library(name: "WireMySQL", targets: ["WireMySQL"]),
        .library(name: "WireMongo", targets: ["WireMongo"]),
        .executable(name: "dbproxy", targets: ["dbproxy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "WirePostgres",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Wire/Postgres"
        ),
        .target(
            name: "WireMySQL",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Wire/MySQL"
        ),
        .target(
            name: "WireMongo",
            dependencies: ["CZlib", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/Wire/Mongo"
        ),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .testTarget(
            name: "WireMongoTests",
            dependencies: [
                "WireMongo", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .target(
            name: "ProxyCore",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "LocalDBProxy",
            dependencies: [
                "ProxyCore", "WirePostgres", "WireMySQL", "WireMongo",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ServerALPN",
            dependencies: [
                "ProxyCore", "WirePostgres", "WireMySQL", "WireMongo",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "ProxyOperations",
            dependencies: [
                "LocalDBProxy", "ServerALPN", "ProxyCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ProxyOperationsTests",
            dependencies: [
                "ProxyOperations", "LocalDBProxy", "ServerALPN", "ProxyCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "dbproxy",
            dependencies: [
                "LocalDBProxy", "ServerALPN", "ProxyCore", "ProxyOperations",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "EmbeddedProxy",
            dependencies: [
                "LocalDBProxy", "ProxyCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Examples/EmbeddedProxy"
        ),
        .testTarget(
            name: "ProxyCoreTests",
            dependencies: [
                "ProxyCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "LocalDBProxyTests",
            dependencies: [
                "LocalDBProxy", "ProxyCore", "WirePostgres", "WireMySQL", "WireMongo",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "WireMySQLTests",
            dependencies: [
                "WireMySQL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .systemLibrary(
            name: "CMariaDB",
            path: "Tests/Tools/CMariaDB",
            pkgConfig: "libmariadb",
            providers: [.apt(["libmariadb-dev"])]
        ),
        .executableTarget(
            name: "mysqlworkload",
            dependencies: ["CMariaDB", "WorkloadSupport"],
            path: "Tests/Tools/mysqlworkload",
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "WirePostgresTests",
            dependencies: [
                "WirePostgres",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .systemLibrary(
            name: "CLibPQ",
            path: "Tests/Tools/CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "WorkloadSupport",
            path: "Tests/Tools/WorkloadSupport"
        ),
        .executableTarget(
            name: "pgworkload",
            dependencies: ["CLibPQ", "WorkloadSupport"],
            path: "Tests/Tools/pgworkload",
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "ServerALPNTests",
            dependencies: [
                "ServerALPN", "ProxyCore", "WireMySQL", "WireMongo",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "ProxyIntegrationTests",
            dependencies: [
                "ProxyCore", "LocalDBProxy", "ServerALPN", "WirePostgres", "pgworkload", "mysqlworkload", "EmbeddedProxy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
