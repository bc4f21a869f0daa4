import Foundation
import LocalDBProxy
import NIOCore
import NIOSSL
import ProxyCore
import ServerALPN
import Testing

/// The mariadb client -> local proxy -> router -> the real MariaDB of scripts/dev-db: the
/// router relays the connection phase (greeting without CLIENT_SSL, identity check on the
/// HandshakeResponse41, TLS to the database with sequence ids renumbered), then splices.
@Suite("MySQL end to end", .serialized)
struct MySQLEndToEndTests {
    /// `my-tls` reaches MariaDB over TLS (verify-full against the dev CA), `my-plain` without.
    private func startChain() async throws -> ProxyChain {
        try await DevDatabase.requireMariaDB()
        let roots = try TLSMaterial.loadCertificates(file: try DevDatabase.tlsCA())
        let address = HostAndPort(host: DevDatabase.mariaDBHost, port: DevDatabase.mariaDBPort)
        return try await ProxyChain.start(databases: [
            DatabaseRoute(
                name: "my-tls", databaseProtocol: .mysql, address: address,
                tls: DatabaseTLS(mode: .verifyFull, trustRoots: roots, serverName: "localhost")),
            DatabaseRoute(name: "my-plain", databaseProtocol: .mysql, address: address),
            DatabaseRoute(name: "my-down", databaseProtocol: .mysql, address: HostAndPort(host: "127.0.0.1", port: 1)),
        ] + secureRoutes(roots: roots))
    }

    /// The require_secure_transport MariaDB, reached over TLS (`my-secure`) and, wrongly, without (`my-secure-plain`).
    private func secureRoutes(roots: [NIOSSLCertificate]) -> [DatabaseRoute] {
        let address = HostAndPort(host: DevDatabase.mariaDBHost, port: DevDatabase.secureMariaDBPort)
        return [
            DatabaseRoute(
                name: "my-secure", databaseProtocol: .mysql, address: address,
                tls: DatabaseTLS(mode: .verifyFull, trustRoots: roots, serverName: "localhost")),
            DatabaseRoute(name: "my-secure-plain", databaseProtocol: .mysql, address: address),
        ]
    }

    private func proxy(
        _ chain: ProxyChain, user: String, service: String = "my-tls", localTLS: LocalTLSFiles? = nil,
        notBefore: Date = Date() - 60, validFor: TimeInterval = 3600
    ) async throws -> (LocalProxy, Int) {
        let material = try chain.pki.user(user, service: service, protocolName: "mysql", notBefore: notBefore, validFor: validFor)
        let (proxy, port, _) = try await chain.localProxy(material, localTLS: try localTLS?.loadOrCreate().material)
        return (proxy, port)
    }

    private func mariadb(
        port: Int, user: String, password: String, database: String = "appdb", tls: [String] = [], _ sql: String
    ) async throws -> Command.Result {
        try await Command.run([
            "mariadb", "--no-defaults", "--host=127.0.0.1", "--port=\(port)", "--protocol=TCP", "--user=\(user)",
            "--password=\(password)", "--database=\(database)", "--connect-timeout=10", "--batch", "--skip-column-names",
        ] + tls + ["-e", sql])
    }

    @Test("the mariadb client logs in and queries, with the database reached over TLS or in plain text",
          arguments: [("my-tls", "TLSv1.3"), ("my-plain", "")])
    func query(service: String, tlsVersion: String) async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice", service: service)
        let result = try await mariadb(port: port, user: "alice", password: "alice-pw",
                                 "select current_user(), database(); show session status like 'Ssl_version'")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "alice@%\tappdb\nSsl_version\t\(tlsVersion)\n", "\(result.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("local TLS: --ssl --ssl-verify-server-cert against the local CA, password and ed25519 logins, database over TLS or not",
          arguments: ["my-tls", "my-plain"])
    func localTLS(service: String) async throws {
        let chain = try await startChain()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-my-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = LocalTLSFiles(directory: directory)
        let tls = ["--ssl", "--ssl-ca=\(files.caCertificate)", "--ssl-verify-server-cert"]
        let (alice, alicePort) = try await self.proxy(chain, user: "alice", service: service, localTLS: files)
        let result = try await mariadb(port: alicePort, user: "alice", password: "alice-pw", tls: tls, "select current_user()")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "alice@%\n", "\(result.output)")
        let plain = try await mariadb(port: alicePort, user: "alice", password: "alice-pw", tls: ["--skip-ssl"], "select 'plain'")
        #expect(plain.output == "plain\n", "a client that does not ask for TLS still connects: \(plain.output)")
        let workload = try await WorkloadTool.run("mysqlworkload", [
            "--host", "127.0.0.1", "--port", "\(alicePort)", "--user", "alice", "--password", "alice-pw", "--database", "appdb",
            "--ssl-mode", "verify-identity", "--ssl-ca", files.caCertificate, "roundtrip",
        ])
        #expect(workload.status == 0, "\(workload.output)")
        #expect(!(workload.facts["ssl_cipher"] ?? "").isEmpty, "the client's side of the local socket is TLS: \(workload.output)")
        let (ed, edPort) = try await self.proxy(chain, user: "eduser", service: service, localTLS: files)
        let edResult = try await mariadb(port: edPort, user: "eduser", password: "ed-pw", tls: tls, "select current_user()")
        #expect(edResult.output == "eduser@%\n", "\(edResult.output)")
        await alice.stop()
        await ed.stop()
        await chain.stop()
    }

    @Test("a user that requires TLS logs in only where the router reaches the database over TLS")
    func requireSecureTransport() async throws {
        let chain = try await startChain()
        let (overTLS, tlsPort) = try await self.proxy(chain, user: "tlsuser", service: "my-tls")
        let good = try await mariadb(port: tlsPort, user: "tlsuser", password: "tls-pw", "select current_user()")
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output == "tlsuser@%\n")
        let (plain, plainPort) = try await self.proxy(chain, user: "tlsuser", service: "my-plain")
        let refused = try await mariadb(port: plainPort, user: "tlsuser", password: "tls-pw", "select 1")
        #expect(refused.status != 0)
        #expect(refused.output.contains("ERROR 1045 (28000): Access denied for user 'tlsuser'"), "\(refused.output)")
        await overTLS.stop()
        await plain.stop()
        await chain.stop()
    }

    @Test("a server with require_secure_transport=ON: every login works over the router's TLS, none in plain text")
    func requireSecureTransportServer() async throws {
        try await DevDatabase.requireSecureMariaDB()
        let chain = try await startChain()
        for (user, password) in [("alice", "alice-pw"), ("eduser", "ed-pw")] {
            let (overTLS, port) = try await self.proxy(chain, user: user, service: "my-secure")
            let good = try await mariadb(port: port, user: user, password: password,
                                   "select current_user(), @@require_secure_transport; show session status like 'Ssl_version'")
            #expect(good.status == 0, "\(good.output)")
            #expect(good.output == "\(user)@%\t1\nSsl_version\tTLSv1.3\n", "\(good.output)")
            await overTLS.stop()
        }
        let (plain, plainPort) = try await self.proxy(chain, user: "alice", service: "my-secure-plain")
        let refused = try await mariadb(port: plainPort, user: "alice", password: "alice-pw", "select 1")
        #expect(refused.status != 0)
        #expect(refused.output.contains("ERROR 1045 (28000): Access denied for user 'alice'"), "\(refused.output)")
        await plain.stop()
        await chain.stop()
    }

    @Test("libmariadb: prepared statements, 1,000 small queries and a 64 MiB BLOB (multi-frame packets) with equal SHA-256")
    func libmariadbWorkload() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice")
        let prepared = try await MySQLWorkload.run(port: port, user: "alice", password: "alice-pw", ["prepared", "--count", "1000"])
        #expect(prepared.status == 0, "\(prepared.output)")
        #expect(prepared.facts["prepared_ok"] == "1000")
        let queries = try await MySQLWorkload.run(port: port, user: "alice", password: "alice-pw", ["queries", "--count", "1000"])
        #expect(queries.status == 0, "\(queries.output)")
        #expect(queries.facts["queries_ok"] == "1000")
        let blob = try await MySQLWorkload.run(port: port, user: "alice", password: "alice-pw", ["blob", "--megabytes", "64", "--table", "e2e_blob"])
        #expect(blob.status == 0, "\(blob.output)")
        let client = blob.facts["client_sha256"]
        #expect(client != nil && client == blob.facts["server_sha256"] && client == blob.facts["readback_sha256"], "\(blob.output)")
        print("MySQL through the chain: 1,000 queries in \(queries.facts["seconds"] ?? "?") s; 64 MiB BLOB insert \(blob.facts["insert_seconds"] ?? "?") s, read back \(blob.facts["readback_fetch_seconds"] ?? "?") s")
        await proxy.stop()
        await chain.stop()
    }

    @Test("mariadb-slap: 8 concurrent clients, 800 queries, no error")
    func slap() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice")
        let result = try await Command.run([
            "mariadb-slap", "--no-defaults", "--host=127.0.0.1", "--port=\(port)", "--protocol=TCP", "--user=alice", "--password=alice-pw",
            "--create-schema=appdb", "--concurrency=8", "--iterations=2", "--number-of-queries=800", "--query=select 1",
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("Number of clients running queries: 8"), "\(result.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("an ed25519 user: the database's AuthSwitchRequest and the client's answer cross with renumbered sequence ids",
          arguments: ["my-tls", "my-plain"])
    func authSwitch(service: String) async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "eduser", service: service)
        let good = try await mariadb(port: port, user: "eduser", password: "ed-pw", "select current_user()")
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output == "eduser@%\n")
        let wrong = try await mariadb(port: port, user: "eduser", password: "wrong", "select 1")
        #expect(wrong.output.contains("ERROR 1045 (28000): Access denied for user 'eduser'@'127.0.0.1'"), "\(wrong.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("a wrong password shows the database's own error")
    func wrongPassword() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice")
        let result = try await mariadb(port: port, user: "alice", password: "wrong", "select 1")
        #expect(result.status != 0)
        #expect(result.output.contains("ERROR 1045 (28000): Access denied for user 'alice'@'127.0.0.1' (using password: YES)"), "\(result.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("the certificate's database user and database are enforced with ERR packets naming what is allowed")
    func identity() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice")
        let wrongUser = try await mariadb(port: port, user: "bob", password: "bob-pw", "select 1")
        #expect(wrongUser.output.contains("ERROR 1045 (28000): dbproxy router: access denied for user 'bob': the certificate of \"alice\" allows database users alice on my-tls"), "\(wrongUser.output)")
        let wrongDatabase = try await mariadb(port: port, user: "alice", password: "alice-pw", database: "mysql", "select 1")
        #expect(wrongDatabase.output.contains("ERROR 1044 (42000): dbproxy router: access denied to database 'mysql'"), "\(wrongDatabase.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("the database is down: an ERR packet naming the database and its address")
    func databaseDown() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice", service: "my-down")
        let result = try await mariadb(port: port, user: "alice", password: "alice-pw", "select 1")
        #expect(result.status != 0)
        // MariaDB Connector/C prints errors that arrive before a greeting as
        // "ERROR 2002 (HY000): Received error packet before completion of TLS handshake. ... 1105 - <message>".
        #expect(result.output.contains("1105 - dbproxy router: can't connect to database \"my-down\" at 127.0.0.1:1: cannot connect"), "\(result.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("an expired certificate: ERR 1045 from the local proxy in place of the greeting")
    func expiredCertificate() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice", notBefore: Date() - 7200, validFor: 3600)
        let result = try await mariadb(port: port, user: "alice", password: "alice-pw", "select 1")
        #expect(result.status != 0)
        #expect(result.output.contains("1045 - dbproxy: certificate expired at "), "\(result.output)")
        await proxy.stop()
        await chain.stop()
    }
}
