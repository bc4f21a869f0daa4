import Foundation
import NIOCore
import ProxyCore
@testable import ServerALPN
import Testing

/// `mysql_listen_addr`, `mongo_listen_addr` and `mysql_server_version` in the router file.
@Suite("mysql_listen_addr and mongo_listen_addr configuration")
struct ProtocolListenersConfigTests {
    private func parse(adding lines: String) throws -> RouterConfiguration {
        let directory = try ConfigDirectory()
        let yaml = SampleConfig.replacing(lineContaining: "web_listen_addr", with: "  web_listen_addr: 127.0.0.1:3080\n" + lines)
        return try RouterConfigFile.parse(yaml, file: "x.yaml", baseDirectory: directory.path)
    }

    @Test("absent: no listeners and the default server version")
    func absent() throws {
        let directory = try ConfigDirectory()
        let configuration = try RouterConfigFile.parse(SampleConfig.yaml, file: "x.yaml", baseDirectory: directory.path)
        #expect(configuration.mysqlListenAddress == nil)
        #expect(configuration.mongoListenAddress == nil)
        #expect(configuration.mysqlServerVersion == "8.0.0-dbproxy")
    }

    @Test("set: both addresses and the version")
    func set() throws {
        let configuration = try parse(adding: """
              mysql_listen_addr: 0.0.0.0:3036
              mongo_listen_addr: "[::1]:27018"
              mysql_server_version: 8.0.36-log
            """)
        #expect(configuration.mysqlListenAddress == HostAndPort(host: "0.0.0.0", port: 3036))
        #expect(configuration.mongoListenAddress == HostAndPort(host: "::1", port: 27018))
        #expect(configuration.mysqlServerVersion == "8.0.36-log")
    }

    @Test("mistakes name the key", arguments: [
        ("  mysql_listen_addr: nowhere", "proxy_service.mysql_listen_addr"),
        ("  mongo_listen_addr: 27017", "proxy_service.mongo_listen_addr"),
        ("  mysql_server_version: \"\"", "proxy_service.mysql_server_version"),
        ("  mysql_server_version: \(String(repeating: "9", count: 65))", "proxy_service.mysql_server_version"),
    ])
    func mistakes(line: String, key: String) throws {
        let error = try #require(throws: RouterConfigError.self) { try parse(adding: line) }
        #expect(error.key == key, "\(error)")
    }
}
