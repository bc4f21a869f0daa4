import Foundation
import NIOCore
import ProxyCore
@testable import ServerALPN
import Testing

/// `postgres_listen_addr`: the v2 config's separate listener for PostgreSQL clients, which takes
/// only them (an SSLRequest, with or without a PROXY header first).
@Suite("postgres_listen_addr")
struct PlainPostgresListenerTests {
    @Test("postgres_listen_addr parses into RouterConfiguration.postgresListenAddress; absent is nil")
    func configFile() throws {
        let directory = try ConfigDirectory()
        let plain = try RouterConfigFile.parse(SampleConfig.yaml, file: "x.yaml", baseDirectory: directory.path)
        #expect(plain.postgresListenAddress == nil)
        let yaml = SampleConfig.replacing(
            lineContaining: "web_listen_addr", with: "  web_listen_addr: 127.0.0.1:3080\n  postgres_listen_addr: 0.0.0.0:5433")
        let configuration = try RouterConfigFile.parse(yaml, file: "x.yaml", baseDirectory: directory.path)
        #expect(configuration.postgresListenAddress == HostAndPort(host: "0.0.0.0", port: 5433))
    }

    @Test("a bad postgres_listen_addr names the key and the line")
    func configFileError() throws {
        let directory = try ConfigDirectory()
        let yaml = SampleConfig.replacing(
            lineContaining: "web_listen_addr", with: "  web_listen_addr: 127.0.0.1:3080\n  postgres_listen_addr: nowhere")
        let error = try #require(throws: RouterConfigError.self) {
            try RouterConfigFile.parse(yaml, file: "x.yaml", baseDirectory: directory.path)
        }
        #expect(error.key == "proxy_service.postgres_listen_addr")
        #expect(error.line == 4)
        #expect(error.description.contains("\"nowhere\" is not an address"))
    }

    func machine(proxied: Bool = false) -> RouterConnectionStateMachine {
        proxied
            ? RouterConnectionStateMachine(
                table: SampleRoutes.table(), proxyProtocol: PlainPostgresStateMachineTests.trusted,
                peer: PlainPostgresStateMachineTests.loadBalancer, listener: .postgres)
            : RouterConnectionStateMachine(table: SampleRoutes.table(), peer: HostAndPort(host: "127.0.0.1", port: 1), listener: .postgres)
    }

    @Test("SSLRequest, with and without a PROXY header, starts TLS as on the main port", arguments: [false, true])
    func sslRequest(proxied: Bool) throws {
        var machine = machine(proxied: proxied)
        let bytes = (proxied ? PlainPostgresStateMachineTests.header : []) + PlainPostgresStateMachineTests.sslRequest
        #expect(machine.received(ByteBuffer(bytes: bytes)).plainPostgres?.isStartTLS == true)
    }

    @Test("a TLS ClientHello or anything else is refused with the first bytes in hex")
    func clientHelloRefused() throws {
        var machine = machine()
        let rejection = try #require(machine.received(try GoldenHello.opensslSNIALPN.buffer()).rejection)
        guard case .notTLS(let reason) = rejection else {
            Issue.record("expected notTLS, got \(rejection)")
            return
        }
        #expect(reason.contains("postgres_listen_addr takes PostgreSQL clients"))
        #expect(reason.contains("first bytes 16 03"), "\(reason)")
        var http = self.machine()
        #expect(http.received(ByteBuffer(string: "GET / HTTP/1.1\r\n")).rejection != nil)
    }

    @Test("a PROXY header from an untrusted peer is refused as untrusted")
    func untrustedHeader() throws {
        var machine = RouterConnectionStateMachine(
            table: SampleRoutes.table(), proxyProtocol: PlainPostgresStateMachineTests.trusted,
            peer: HostAndPort(host: "198.51.100.9", port: 50000), listener: .postgres)
        let rejection = machine.received(ByteBuffer(bytes: PlainPostgresStateMachineTests.header)).rejection
        #expect(rejection == .proxyHeaderUntrusted(peer: "198.51.100.9:50000"))
    }
}
