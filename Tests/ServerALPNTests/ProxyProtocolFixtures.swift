import Foundation
import NIOCore
import ProxyCore
@testable import ServerALPN
import Testing

/// The files of Tests/Fixtures/wire/proxy-protocol (see its README): the specification's
/// examples and what HAProxy 2.6 (Debian 12) sent, with what each must parse into.
enum ProxyProtocolFixture: String, CaseIterable, CustomTestStringConvertible {
    case specV1TCP4HTTP = "spec-v1-tcp4-http"
    case specV1TCP4Longest = "spec-v1-tcp4-longest"
    case specV1TCP6Longest = "spec-v1-tcp6-longest"
    case specV1UnknownShort = "spec-v1-unknown-short"
    case specV1UnknownLongest = "spec-v1-unknown-longest"
    case specV2TCP4 = "spec-v2-tcp4"
    case specV2TCP6 = "spec-v2-tcp6"
    case specV2Local = "spec-v2-local"
    case specV2Unix = "spec-v2-unix"
    case specV2TCP4TLVs = "spec-v2-tcp4-tlvs"
    case haproxyV1TCP4 = "haproxy-v1-tcp4"
    case haproxyV2TCP4 = "haproxy-v2-tcp4"
    case haproxyV1TCP6 = "haproxy-v1-tcp6"
    case haproxyV2TCP6 = "haproxy-v2-tcp6"
    case haproxyV2TLVs = "haproxy-v2-tlv-crc32c-unique-id"
    case haproxyV1HealthCheck = "haproxy-v1-health-check"
    case haproxyV2HealthCheck = "haproxy-v2-health-check"

    var testDescription: String { rawValue }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ServerALPNTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/wire/proxy-protocol", isDirectory: true)

    func bytes() throws -> [UInt8] {
        Array(try Data(contentsOf: Self.directory.appendingPathComponent(rawValue + ".bin")))
    }

    /// Whether the file holds a header followed by the TLS ClientHello of
    /// Tests/Fixtures/wire/tls/openssl-sni-alpn.bin (HAProxy relaying a TLS client).
    var carriesClientHello: Bool {
        switch self {
        case .haproxyV1TCP4, .haproxyV2TCP4, .haproxyV1TCP6, .haproxyV2TCP6, .haproxyV2TLVs: true
        default: false
        }
    }

    /// What the header must parse into.
    var expected: ProxyProtocolHeader {
        func v4(_ text: String, _ port: Int) -> ProxyProtocolEndpoint {
            ProxyProtocolEndpoint(address: IPAddress(parsing: text)!, port: port)
        }
        let loopback6 = IPAddress.v6(high: 0, low: 1)
        switch self {
        case .specV1TCP4HTTP:
            return ProxyProtocolHeader(version: .v1, command: .proxy, transport: .tcp4, source: v4("192.168.0.1", 56324),
                                       destination: v4("192.168.0.11", 443), consumedBytes: 47)
        case .specV1TCP4Longest:
            return ProxyProtocolHeader(version: .v1, command: .proxy, transport: .tcp4, source: v4("255.255.255.255", 65535),
                                       destination: v4("255.255.255.255", 65535), consumedBytes: 56)
        case .specV1TCP6Longest:
            let all = ProxyProtocolEndpoint(address: .v6(high: ~0, low: ~0), port: 65535)
            return ProxyProtocolHeader(version: .v1, command: .proxy, transport: .tcp6, source: all, destination: all, consumedBytes: 104)
        case .specV1UnknownShort:
            return ProxyProtocolHeader(version: .v1, command: .proxy, transport: .unknown, source: nil, destination: nil, consumedBytes: 15)
        case .specV1UnknownLongest:
            return ProxyProtocolHeader(version: .v1, command: .proxy, transport: .unknown, source: nil, destination: nil, consumedBytes: 107)
        case .specV2TCP4:
            return ProxyProtocolHeader(version: .v2, command: .proxy, transport: .tcp4, source: v4("192.168.0.1", 56324),
                                       destination: v4("192.168.0.11", 443), consumedBytes: 28)
        case .specV2TCP6:
            return ProxyProtocolHeader(
                version: .v2, command: .proxy, transport: .tcp6,
                source: ProxyProtocolEndpoint(address: IPAddress(parsing: "2001:db8::1")!, port: 56324),
                destination: ProxyProtocolEndpoint(address: IPAddress(parsing: "2001:db8::11")!, port: 443), consumedBytes: 52)
        case .specV2Local:
            return ProxyProtocolHeader(version: .v2, command: .local, transport: .unspecified, source: nil, destination: nil, consumedBytes: 16)
        case .specV2Unix:
            return ProxyProtocolHeader(version: .v2, command: .proxy, transport: .unixStream, source: nil, destination: nil, consumedBytes: 232)
        case .specV2TCP4TLVs:
            return ProxyProtocolHeader(
                version: .v2, command: .proxy, transport: .tcp4, source: v4("192.168.0.1", 56324), destination: v4("192.168.0.11", 443),
                consumedBytes: 57,
                tlvs: [.init(type: 0x01, value: Array("h2".utf8)), .init(type: 0x02, value: Array("proxy.localhost".utf8)),
                       .init(type: 0x04, value: [0, 0, 0])])
        // The captures: see the README for the ports of each run.
        case .haproxyV1TCP4:
            return ProxyProtocolHeader(version: .v1, command: .proxy, transport: .tcp4, source: v4("127.0.0.1", 45555),
                                       destination: v4("127.0.0.1", 60159), consumedBytes: 44)
        case .haproxyV2TCP4:
            return ProxyProtocolHeader(version: .v2, command: .proxy, transport: .tcp4, source: v4("127.0.0.1", 45555),
                                       destination: v4("127.0.0.1", 56321), consumedBytes: 28)
        case .haproxyV1TCP6:
            return ProxyProtocolHeader(
                version: .v1, command: .proxy, transport: .tcp6, source: ProxyProtocolEndpoint(address: loopback6, port: 45556),
                destination: ProxyProtocolEndpoint(address: loopback6, port: 38599), consumedBytes: 32)
        case .haproxyV2TCP6:
            return ProxyProtocolHeader(
                version: .v2, command: .proxy, transport: .tcp6, source: ProxyProtocolEndpoint(address: loopback6, port: 45556),
                destination: ProxyProtocolEndpoint(address: loopback6, port: 56705), consumedBytes: 52)
        case .haproxyV2TLVs:
            return ProxyProtocolHeader(
                version: .v2, command: .proxy, transport: .tcp4, source: v4("127.0.0.1", 45555), destination: v4("127.0.0.1", 56831),
                consumedBytes: 54,
                tlvs: [.init(type: 0x03, value: [0xD4, 0xA0, 0xB6, 0xAC]), .init(type: 0x05, value: Array("pp-capture-45555".utf8))])
        case .haproxyV1HealthCheck:
            // Version 1 has no LOCAL: HAProxy names its own check connection.
            return ProxyProtocolHeader(version: .v1, command: .proxy, transport: .tcp4, source: v4("127.0.0.1", 48414),
                                       destination: v4("127.0.0.1", 32941), consumedBytes: 44)
        case .haproxyV2HealthCheck:
            return ProxyProtocolHeader(version: .v2, command: .local, transport: .unspecified, source: nil, destination: nil, consumedBytes: 16)
        }
    }
}

/// Builders for headers the fixtures do not have.
enum ProxyProtocolBytes {
    static let signature = ProxyProtocolParser.v2Signature

    /// A version 2 header: signature, `verCmd`, `family`, the length (the block's unless
    /// `length` is given), then `block`.
    static func v2(verCmd: UInt8 = 0x21, family: UInt8 = 0x11, length: Int? = nil, _ block: [UInt8]) -> [UInt8] {
        let count = length ?? block.count
        return signature + [verCmd, family, UInt8(count >> 8), UInt8(count & 0xFF)] + block
    }

    /// The address block of TCP over IPv4: 203.0.113.7:5555 -> 192.0.2.1:443.
    static let tcp4Block: [UInt8] = [203, 0, 113, 7, 192, 0, 2, 1, 0x15, 0xB3, 0x01, 0xBB]

    static func tlv(_ type: UInt8, _ value: [UInt8]) -> [UInt8] {
        [type, UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
    }

    static func v1(_ line: String) -> [UInt8] { Array(line.utf8) }
}

extension ProxyProtocolParser {
    /// Parses `bytes` as received so far.
    static func parse(_ bytes: [UInt8]) -> Result { parse(ByteBuffer(bytes: bytes)) }

    /// Parses every prefix of `bytes` (what a connection has after each byte arrives), checks
    /// that the answers are `needMoreData` until one decisive answer that every longer prefix
    /// repeats, and returns that answer with the prefix length that first gave it.
    static func parseEveryPrefix(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> (result: Result, decidedAt: Int) {
        var decided: (Result, Int)?
        for length in 0...bytes.count {
            let result = parse(Array(bytes.prefix(length)))
            if let (first, _) = decided {
                #expect(result == first, "prefix of \(length) bytes: \(result), shorter prefixes: \(first)", sourceLocation: sourceLocation)
            } else if result != .needMoreData {
                decided = (result, length)
            }
        }
        return decided ?? (.needMoreData, bytes.count)
    }
}

extension ProxyProtocolParser.Result {
    var header: ProxyProtocolHeader? {
        if case .header(let header) = self { return header }
        return nil
    }

    var invalidReason: String? {
        if case .invalid(let reason) = self { return reason }
        return nil
    }
}
