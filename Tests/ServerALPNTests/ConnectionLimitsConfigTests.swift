import Foundation
import NIOCore
import ServerALPN
import Testing

/// `proxy_service.connection_limits` in the router's YAML file.
@Suite("RouterConfigFile: connection_limits")
struct ConnectionLimitsConfigTests {
    func yaml(_ lines: [String]) -> String {
        SampleConfig.replacing(lineContaining: "handshake_timeout", with: (["  handshake_timeout: 15s"] + lines).joined(separator: "\n"))
    }

    func parse(_ lines: [String]) throws -> RouterConfiguration {
        let directory = try ConfigDirectory()
        return try RouterConfigFile.parse(yaml(lines), file: "router.yaml", baseDirectory: directory.path)
    }

    func error(_ lines: [String]) throws -> RouterConfigError {
        let directory = try ConfigDirectory()
        do {
            let configuration = try RouterConfigFile.parse(yaml(lines), file: "router.yaml", baseDirectory: directory.path)
            Issue.record("parsed: \(configuration.connectionLimits)")
            throw CancellationError()
        } catch let error as RouterConfigError {
            return error
        }
    }

    @Test("no section: no limits")
    func absent() throws {
        #expect(try parse([]).connectionLimits == .none)
    }

    @Test("max_connections and two rates; burst defaults to average")
    func full() throws {
        let limits = try parse([
            "  connection_limits:",
            "    max_connections: 100",
            "    rates:",
            "      - {period: 1s, average: 20, burst: 40}",
            "      - period: 1m",
            "        average: 600",
        ]).connectionLimits
        #expect(limits.maxConnections == 100)
        #expect(limits.rates == [
            ConnectionRate(period: .seconds(1), average: 20, burst: 40), ConnectionRate(period: .minutes(1), average: 600, burst: 600),
        ])
    }

    @Test("each mistake names its key", arguments: [
        (["    max_connections: 0"], "proxy_service.connection_limits.max_connections", "positive whole number"),
        (["    max_connections: lots"], "proxy_service.connection_limits.max_connections", "positive whole number"),
        (["    rates: {period: 1s}"], "proxy_service.connection_limits.rates", "expected a list"),
        (["    rates: [{average: 5}]"], "proxy_service.connection_limits.rates[0].period", "missing"),
        (["    rates: [{period: 0, average: 5}]"], "proxy_service.connection_limits.rates[0].period", "longer than 0"),
        (["    rates: [{period: 1s}]"], "proxy_service.connection_limits.rates[0].average", "missing"),
        (["    rates: [{period: 1s, average: 5, burst: -1}]"], "proxy_service.connection_limits.rates[0].burst", "positive"),
        (["    max_users: 5"], "proxy_service.connection_limits.max_users", "unknown key"),
    ])
    func mistakes(lines: [String], key: String, reason: String) throws {
        let error = try error(["  connection_limits:"] + lines)
        #expect(error.key == key, "\(error)")
        #expect(error.reason.contains(reason), "\(error)")
    }
}
