import Foundation
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// Valid router YAML parses into the configuration it describes.
@Suite("RouterConfigFile valid files")
struct RouterConfigFileTests {
    func host(_ host: String, _ port: Int) -> HostAndPort { HostAndPort(host: host, port: port) }

    @Test("the sample configuration parses into the expected configuration")
    func sample() throws {
        let directory = try ConfigDirectory()
        let path = try directory.write("router.yaml", SampleConfig.yaml)
        let configuration = try RouterConfigFile.load(path: path)
        #expect(configuration.listenAddress == host("127.0.0.1", 3080))
        #expect(configuration.certificateChain.count == 2)  // server certificate + host CA
        #expect(configuration.clientCA.count == 1)
        #expect(configuration.pingInterval == .seconds(30))
        #expect(configuration.pingFraming)
        #expect(configuration.timeouts.handshake == .seconds(15))
        #expect(configuration.timeouts.connect == .seconds(30))
        #expect(configuration.databases == [DatabaseRoute(name: "pg1", databaseProtocol: .postgres, address: host("127.0.0.1", 5432))])
        #expect(configuration.routes == [
            Route(match: .alpn([.proxySSH]), action: .forward(host("127.0.0.1", 3023))),
            Route(match: .sniPrefix("kube-teleport-proxy-alpn."), action: .forwardTLS(host("127.0.0.1", 3026))),
            Route(match: .alpnPrefix("teleport-auth@"), action: .forwardTLS(host("127.0.0.1", 3025))),
            Route(match: .alpn([.http1, .http2]), action: .forward(host("127.0.0.1", 8080)), clientCertificate: .optional),
        ])
    }

    @Test("relative file names are taken from the file's directory, absolute ones as given")
    func relativeAndAbsolutePaths() throws {
        let directory = try ConfigDirectory()
        let yaml = SampleConfig.replacing(lineContaining: "client_ca_file", with: "  client_ca_file: \(directory.file("user-ca.pem"))")
        let configuration = try RouterConfigFile.parse(yaml, file: "inline.yaml", baseDirectory: directory.path)
        #expect(configuration.clientCA.count == 1)
        #expect(throws: RouterConfigError.self) {
            try RouterConfigFile.parse(SampleConfig.yaml, file: "inline.yaml", baseDirectory: "/nonexistent-dir")
        }
    }

    @Test("optional settings: ping_framing, connect_timeout, millisecond and zero durations")
    func optionalSettings() throws {
        let directory = try ConfigDirectory()
        let yaml = SampleConfig.replacing(
            lineContaining: "ping_interval", with: "  ping_interval: 0\n  ping_framing: false\n  connect_timeout: 500ms")
            .replacingOccurrences(of: "handshake_timeout: 15s", with: "handshake_timeout: 2m")
        let configuration = try RouterConfigFile.parse(yaml, file: "x.yaml", baseDirectory: directory.path)
        #expect(configuration.pingInterval == .zero)
        #expect(!configuration.pingFraming)
        #expect(configuration.timeouts.connect == .milliseconds(500))
        #expect(configuration.timeouts.handshake == .minutes(2))
    }

    @Test("minimal file: no version, routes or databases")
    func minimal() throws {
        let directory = try ConfigDirectory()
        let yaml = """
            proxy_service:
              web_listen_addr: "[::1]:0"
              https_keypairs: [{ cert_file: server.pem, key_file: server-key.pem }]
              client_ca_file: user-ca.pem
            """
        let configuration = try RouterConfigFile.parse(yaml, file: "x.yaml", baseDirectory: directory.path)
        #expect(configuration.listenAddress == host("::1", 0))
        #expect(configuration.routes.isEmpty && configuration.databases.isEmpty)
        #expect(configuration.pingInterval == .seconds(30))
        #expect(configuration.timeouts.handshake == .seconds(15))
    }

    @Test("block-style lists and a single alpn string parse like flow style")
    func blockStyle() throws {
        let directory = try ConfigDirectory()
        let yaml = SampleConfig.yaml + """
              - alpn: teleport-tcp
                forward: "[fd00::5]:4000"
                client_cert: required
            """
        let configuration = try RouterConfigFile.parse(yaml, file: "x.yaml", baseDirectory: directory.path)
        #expect(configuration.routes.last == Route(match: .alpn([.tcp]), action: .forward(host("fd00::5", 4000))))
    }

    @Test("every database protocol name is accepted", arguments: DatabaseProtocol.allCases)
    func databaseProtocols(_ databaseProtocol: DatabaseProtocol) throws {
        let directory = try ConfigDirectory()
        let yaml = SampleConfig.yaml.replacingOccurrences(of: "protocol: postgres", with: "protocol: \(databaseProtocol.rawValue)")
        let configuration = try RouterConfigFile.parse(yaml, file: "x.yaml", baseDirectory: directory.path)
        #expect(configuration.databases.first?.databaseProtocol == databaseProtocol)
    }
}
