import Foundation
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// psql straight to the router's single port, no local proxy: `sslmode=verify-full` with
/// `sslcert`/`sslkey`/`sslrootcert`, against the real PostgreSQL of scripts/dev-db. The router
/// answers the SSLRequest with `S`, runs TLS with client-certificate verification inside the
/// PostgreSQL protocol and routes by the certificate, as for a `teleport-postgres` connection.
@Suite("PostgreSQL clients straight to the router", .serialized)
struct PlainPostgresEndToEndTests {
    private func startChain() async throws -> ProxyChain {
        try await DevDatabase.requirePostgres()
        let roots = try TLSMaterial.loadCertificates(file: try DevDatabase.tlsCA())
        let address = HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort)
        return try await ProxyChain.start(databases: [
            DatabaseRoute(
                name: "pg-tls", databaseProtocol: .postgres, address: address,
                tls: DatabaseTLS(mode: .verifyFull, trustRoots: roots, serverName: "localhost")),
            DatabaseRoute(name: "pg-plain", databaseProtocol: .postgres, address: address),
        ])
    }

    /// A temporary directory with `user.pem`, `user-key.pem` (0600) and `host-ca.pem` for a
    /// certificate of `user` on `service`, signed by `issuer` (the user CA unless given).
    private func files(
        _ chain: ProxyChain, user: String, service: String = "pg-tls", issuer: DevCertificateAuthority? = nil
    ) throws -> (directory: String, cert: String, key: String, hostCA: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-plainpg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var request = UserCertificateRequest(
            user: user, route: RouteToDatabase(serviceName: service, protocolName: "postgres", username: user, database: "appdb"),
            notBefore: Date() - 60, validFor: 3600)
        request.roles = ["dev"]
        let issued = try (issuer ?? chain.pki.userCA).issueUser(request)
        let paths = try chain.pki.writeFiles(user: issued, to: directory)
        return (directory, paths.cert, paths.key, paths.hostCA)
    }

    private func psql(_ conninfo: String, _ sql: String, password: String? = nil) async throws -> Command.Result {
        try await Command.run(
            ["psql", conninfo + " connect_timeout=10", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: password.map { ["PGPASSWORD": $0] } ?? [:])
    }

    private func conninfo(_ chain: ProxyChain, user: String, _ files: (directory: String, cert: String, key: String, hostCA: String)) -> String {
        "host=localhost port=\(chain.routerPort) user=\(user) dbname=appdb sslmode=verify-full "
            + "sslcert=\(files.cert) sslkey=\(files.key) sslrootcert=\(files.hostCA)"
    }

    @Test("psql sslmode=verify-full with sslcert/sslkey/sslrootcert straight to the router: trustuser, and alice with SCRAM",
          arguments: ["pg-tls", "pg-plain"])
    func verifyFull(service: String) async throws {
        let chain = try await startChain()
        let trust = try files(chain, user: "trustuser", service: service)
        defer { try? FileManager.default.removeItem(atPath: trust.directory) }
        let result = try await psql(
            conninfo(chain, user: "trustuser", trust),
            "select current_user || '@' || current_database() || ' ' || (select ssl from pg_stat_ssl where pid = pg_backend_pid())")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "trustuser@appdb \(service == "pg-tls" ? "true" : "false")\n")
        let routed = try await chain.routerEvents.first { event -> RoutedConnection? in
            if case .routed(let routed) = event { return routed }
            return nil
        }
        #expect(routed.database == service && routed.user == "trustuser" && !routed.pingFramed)

        let alice = try files(chain, user: "alice", service: service)
        defer { try? FileManager.default.removeItem(atPath: alice.directory) }
        let scram = try await psql(conninfo(chain, user: "alice", alice) + " channel_binding=disable", "select current_user", password: "alice-pw")
        #expect(scram.status == 0, "\(scram.output)")
        #expect(scram.output == "alice\n")
        await chain.stop()
    }

    @Test("a certificate for another database user: the router's ErrorResponse, naming the allowed user")
    func otherUser() async throws {
        let chain = try await startChain()
        let alice = try files(chain, user: "alice")
        defer { try? FileManager.default.removeItem(atPath: alice.directory) }
        let result = try await psql(conninfo(chain, user: "bob", alice), "select 1", password: "bob-pw")
        #expect(result.status != 0)
        #expect(result.output.contains("FATAL:  access denied: certificate of \"alice\" does not allow database user \"bob\" on pg-tls"), "\(result.output)")
        #expect(result.output.contains("Allowed database users: alice."), "\(result.output)")
        await chain.stop()
    }

    @Test("psql without sslcert: TLS completes, then the router says a client certificate is required")
    func noCertificate() async throws {
        let chain = try await startChain()
        let alice = try files(chain, user: "alice")
        defer { try? FileManager.default.removeItem(atPath: alice.directory) }
        // A missing sslcert file means no certificate to libpq (and ~/.postgresql is not read).
        let conninfo = "host=localhost port=\(chain.routerPort) user=alice dbname=appdb sslmode=verify-full "
            + "sslcert=\(alice.directory)/none.pem sslkey=\(alice.directory)/none-key.pem sslrootcert=\(alice.hostCA)"
        let result = try await psql(conninfo, "select 1")
        #expect(result.status != 0)
        print("psql without a certificate: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(result.output.contains("dbproxy router: a client certificate issued by the user CA is required"), "\(result.output)")
        #expect(result.output.contains("HINT:  Connect with sslmode=verify-full sslcert="), "\(result.output)")
        let reason = try await chain.routerEvents.first { event -> RouterRejection? in
            if case .rejected(_, _, let reason, _) = event { return reason }
            return nil
        }
        #expect(reason == .route(.clientCertificateRequired))
        await chain.stop()
    }

    @Test("a certificate the user CA did not sign: the TLS alert, shown by psql as an SSL error")
    func foreignCertificate() async throws {
        let chain = try await startChain()
        let stranger = try DevCertificateAuthority.make(commonName: "Some other CA")
        let files = try files(chain, user: "alice", issuer: stranger)
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        let result = try await psql(conninfo(chain, user: "alice", files), "select 1", password: "alice-pw")
        #expect(result.status != 0)
        print("psql with a certificate of another CA: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(result.output.contains("SSL"), "\(result.output)")
        #expect(result.output.lowercased().contains("unknown ca") || result.output.lowercased().contains("certificate"), "\(result.output)")
        await chain.stop()
    }

    @Test("sslmode=disable: the ErrorResponse says TLS with a client certificate is required")
    func sslDisabled() async throws {
        let chain = try await startChain()
        let result = try await psql("host=localhost port=\(chain.routerPort) user=alice dbname=appdb sslmode=disable", "select 1")
        #expect(result.status != 0)
        #expect(result.output.contains("FATAL:  dbproxy router: TLS with a client certificate is required on this port"), "\(result.output)")
        let reason = try await chain.routerEvents.first { event -> RouterRejection? in
            if case .rejected(_, _, let reason, _) = event { return reason }
            return nil
        }
        guard case .notTLS(let text) = reason else {
            Issue.record("expected notTLS, got \(reason)")
            return
        }
        #expect(text.contains("StartupMessage"))
        await chain.stop()
    }

    @Test("through a local proxy, as before: a TLS ClientHello on the same port still works")
    func localProxyStillWorks() async throws {
        let chain = try await startChain()
        let material = try chain.pki.user("trustuser", service: "pg-plain", protocolName: "postgres")
        let (proxy, port, _) = try await chain.localProxy(material)
        let result = try await psql("host=localhost port=\(port) user=trustuser dbname=appdb sslmode=disable", "select current_user")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "trustuser\n")
        await proxy.stop()
        await chain.stop()
    }
}
