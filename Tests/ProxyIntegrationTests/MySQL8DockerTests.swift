import Foundation
import LocalDBProxy
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// Whether a Docker engine answers here; docker-compose.yml's mysql:8.4 service needs one.
enum DockerEngine {
    static let available: Bool = (try? Command.runBlocking(["docker", "info"], environment: [:], interruptAfter: nil).status) == 0
}

/// MySQL 8.4 from docker-compose.yml (caching_sha2_password, the default there). It runs only
/// where a Docker engine answers; elsewhere Swift Testing reports it as skipped with the reason.
@Suite(
    "MySQL 8.4 under docker compose", .serialized,
    .enabled(if: DockerEngine.available, "not run: mysql:8.4 comes only from docker-compose.yml, and no Docker engine answers `docker info` on this machine"))
struct MySQL8DockerTests {
    private static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    private func startChain() async throws -> ProxyChain {
        let started = try await Command.run([Self.repository + "/scripts/dev-db", "start", "mysql"])
        #expect(started.status == 0, "\(started.output)")
        let roots = try TLSMaterial.loadCertificates(file: try DevDatabase.tlsCA())
        let address = HostAndPort(host: "127.0.0.1", port: 23306)
        return try await ProxyChain.start(databases: [
            DatabaseRoute(name: "mysql8-tls", databaseProtocol: .mysql, address: address,
                          tls: DatabaseTLS(mode: .verifyFull, trustRoots: roots, serverName: "localhost")),
            DatabaseRoute(name: "mysql8-plain", databaseProtocol: .mysql, address: address),
        ])
    }

    @Test("caching_sha2_password: full authentication in clear text over local TLS and a TLS database hop")
    func cachingSHA2OverTLS() async throws {
        let chain = try await startChain()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-my8-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = LocalTLSFiles(directory: directory)
        let material = try chain.pki.user("alice", service: "mysql8-tls", protocolName: "mysql")
        let (proxy, port, _) = try await chain.localProxy(material, localTLS: try files.loadOrCreate().material)
        let result = try await Command.run([
            "mariadb", "--no-defaults", "--host=127.0.0.1", "--port=\(port)", "--protocol=TCP", "--user=alice", "--password=alice-pw",
            "--database=appdb", "--ssl", "--ssl-ca=\(files.caCertificate)", "--ssl-verify-server-cert", "--batch", "--skip-column-names",
            "-e", "select current_user(), @@version",
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("alice@%\t8.4"), "\(result.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("caching_sha2_password over a plain database hop: the router refuses to pass the clear-text password")
    func cachingSHA2CleartextRefused() async throws {
        let chain = try await startChain()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-my8-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = LocalTLSFiles(directory: directory)
        let material = try chain.pki.user("bob", service: "mysql8-plain", protocolName: "mysql")
        let (proxy, port, _) = try await chain.localProxy(material, localTLS: try files.loadOrCreate().material)
        let result = try await Command.run([
            "mariadb", "--no-defaults", "--host=127.0.0.1", "--port=\(port)", "--protocol=TCP", "--user=bob", "--password=bob-pw",
            "--database=appdb", "--ssl", "--ssl-ca=\(files.caCertificate)", "-e", "select 1",
        ])
        #expect(result.status != 0)
        #expect(result.output.contains("refusing to send a clear-text password"), "\(result.output)")
        await proxy.stop()
        await chain.stop()
    }
}
