// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for the parsers that read untrusted bytes. Built and run by scripts/fuzz:
//   swift build --package-path Fuzz --sanitize=fuzzer --sanitize=address --scratch-path .build-fuzzer
// The root package is a path dependency; SwiftPM names it after its directory.
let root = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "main"

func fuzzer(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies)
}

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")

let package = Package(
    name: "LocalDBProxyFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.0"),
    ],
    targets: [
        .target(name: "FuzzSupport", dependencies: [nioCore]),
        fuzzer("FuzzPostgres", [nioCore, .product(name: "WirePostgres", package: root)]),
        fuzzer("FuzzMySQL", [
            nioCore, .product(name: "WireMySQL", package: root), .product(name: "ServerALPN", package: root),
            .product(name: "ProxyCore", package: root),
        ]),
        fuzzer("FuzzMongo", [nioCore, .product(name: "WireMongo", package: root)]),
        fuzzer("FuzzIdentity", [
            .product(name: "ProxyCore", package: root), .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        fuzzer("FuzzPingFraming", [
            nioCore, .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "ProxyCore", package: root),
        ]),
        fuzzer("FuzzProxyProtocol", [nioCore, .product(name: "ServerALPN", package: root)]),
        fuzzer("FuzzRouterConfig", [.product(name: "ServerALPN", package: root)]),
        fuzzer("FuzzClientHello", [nioCore, .product(name: "ServerALPN", package: root)]),
    ]
)
