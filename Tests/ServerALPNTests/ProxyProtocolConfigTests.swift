import Foundation
import ServerALPN
import Testing

/// `proxy_service.proxy_protocol` in the router's YAML file.
@Suite("RouterConfigFile: proxy_protocol")
struct ProxyProtocolConfigTests {
    /// The sample configuration with `lines` added at the end of proxy_service.
    func yaml(_ lines: [String]) -> String {
        SampleConfig.replacing(lineContaining: "handshake_timeout", with: (["  handshake_timeout: 15s"] + lines).joined(separator: "\n"))
    }

    func parse(_ lines: [String]) throws -> RouterConfiguration {
        let directory = try ConfigDirectory()
        return try RouterConfigFile.parse(yaml(lines), file: "router.yaml", baseDirectory: directory.path)
    }

    func error(_ lines: [String]) throws -> (RouterConfigError, String) {
        let directory = try ConfigDirectory()
        let text = yaml(lines)
        do {
            let configuration = try RouterConfigFile.parse(text, file: "router.yaml", baseDirectory: directory.path)
            Issue.record("parsed: \(String(describing: configuration.proxyProtocol))")
            throw CancellationError()
        } catch let error as RouterConfigError {
            return (error, text)
        }
    }

    @Test("no section: no PROXY protocol (the sample configuration)")
    func absent() throws {
        #expect(try parse([]).proxyProtocol == nil)
    }

    @Test("a list of IPv4 and IPv6 blocks, header optional by default")
    func blocks() throws {
        let configuration = try parse([
            "  proxy_protocol:",
            "    trusted_cidrs: [10.0.0.0/16, 192.0.2.7, \"2001:db8::/32\", \"::1/128\"]",
        ])
        let proxyProtocol = try #require(configuration.proxyProtocol)
        #expect(proxyProtocol.trustedNetworks.map(\.description) == ["10.0.0.0/16", "192.0.2.7/32", "2001:db8::/32", "::1/128"])
        #expect(proxyProtocol.header == .optional)
    }

    @Test("a block list in block style, a single block as a string, header: required")
    func blockStyleAndRequired() throws {
        let list = try parse([
            "  proxy_protocol:",
            "    header: required",
            "    trusted_cidrs:",
            "      - 10.1.0.0/16",
            "      - fd00::/8",
            "      - ::1/128",
        ])
        #expect(list.proxyProtocol == ProxyProtocolConfiguration(
            trustedNetworks: [try IPNetwork(parsing: "10.1.0.0/16"), try IPNetwork(parsing: "fd00::/8"), try IPNetwork(parsing: "::1/128")],
            header: .required))
        let single = try parse(["  proxy_protocol: { trusted_cidrs: 127.0.0.1/32, header: optional }"])
        #expect(single.proxyProtocol?.trustedNetworks == [try IPNetwork(parsing: "127.0.0.1/32")])
    }

    @Test("mistakes name the file, the line, the key and the reason", arguments: [
        (["  proxy_protocol:", "    trusted_cidrs: [10.0.0.0/8, 10.0.0.1/8]"], "10.0.0.1/8", "proxy_service.proxy_protocol.trusted_cidrs[1]",
         "has bits set after the prefix; did you mean 10.0.0.0/8?"),
        (["  proxy_protocol:", "    trusted_cidrs:", "      - 10.0.0.0/8", "      - 10.0.0.0/40"], "10.0.0.0/40",
         "proxy_service.proxy_protocol.trusted_cidrs[1]", "\"40\" is not a prefix length (0 to 32)"),
        (["  proxy_protocol:", "    trusted_cidrs: [lb.internal/32]"], "lb.internal", "proxy_service.proxy_protocol.trusted_cidrs[0]",
         "\"lb.internal\" is not an IPv4 or IPv6 address"),
        (["  proxy_protocol:", "    trusted_cidrs: 10.0.0.0/99"], "10.0.0.0/99", "proxy_service.proxy_protocol.trusted_cidrs",
         "is not a prefix length"),
        (["  proxy_protocol:", "    trusted_cidrs: []"], "trusted_cidrs: []", "proxy_service.proxy_protocol.trusted_cidrs", "empty list"),
        (["  proxy_protocol:", "    trusted_cidrs: {a: b}"], "trusted_cidrs: {a: b}", "proxy_service.proxy_protocol.trusted_cidrs",
         "expected a list of CIDR blocks"),
        (["  proxy_protocol:", "    trusted_cidrs: [[10.0.0.0/8]]"], "trusted_cidrs: [[", "proxy_service.proxy_protocol.trusted_cidrs[0]",
         "expected a CIDR block"),
        (["  proxy_protocol:", "    header: required"], "header: required", "proxy_service.proxy_protocol.trusted_cidrs", "missing"),
        (["  proxy_protocol:", "    trusted_cidrs: [10.0.0.0/8]", "    header: always"], "header: always",
         "proxy_service.proxy_protocol.header", "expected optional or required"),
        (["  proxy_protocol:", "    trusted_cidrs: [10.0.0.0/8]", "    version: 2"], "version: 2", "proxy_service.proxy_protocol.version",
         "unknown key (expected one of: header, trusted_cidrs)"),
        (["  proxy_protocol: true"], "proxy_protocol: true", "proxy_service.proxy_protocol", "expected a mapping"),
    ])
    func mistakes(lines: [String], lineMarker: String, key: String, reason: String) throws {
        let (error, text) = try error(lines)
        #expect(error.file == "router.yaml")
        #expect(error.key == key)
        #expect(error.line == SampleConfig.line(of: lineMarker, in: text), "\(error)")
        #expect(error.reason.contains(reason), "\(error.reason)")
        #expect(error.description.hasPrefix("router.yaml:\(error.line ?? -1): \(key): "))
    }

    @Test("the key is listed among proxy_service's keys when one is misspelt")
    func listedKey() throws {
        let (error, _) = try error(["  proxy_protocl: {trusted_cidrs: [10.0.0.0/8]}"])
        #expect(error.reason.contains("proxy_protocol"))
    }
}
