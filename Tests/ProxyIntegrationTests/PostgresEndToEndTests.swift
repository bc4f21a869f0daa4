import Foundation
import LocalDBProxy
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// psql, pgbench and a libpq program -> local proxy -> router -> the real PostgreSQL of
/// scripts/dev-db, through both protocol handlers: encryption requests answered locally, the
/// identity checked on the startup packet, TLS to the database where configured.
@Suite("PostgreSQL end to end", .serialized)
struct PostgresEndToEndTests {
    /// A router with the dev PostgreSQL twice: `pg-tls` over TLS (verify-full against the dev
    /// CA) and `pg-plain` without.
    private func startChain() async throws -> ProxyChain {
        try await DevDatabase.requirePostgres()
        let roots = try TLSMaterial.loadCertificates(file: try DevDatabase.tlsCA())
        let address = HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort)
        return try await ProxyChain.start(databases: [
            DatabaseRoute(
                name: "pg-tls", databaseProtocol: .postgres, address: address,
                tls: DatabaseTLS(mode: .verifyFull, trustRoots: roots, serverName: "localhost")),
            DatabaseRoute(name: "pg-plain", databaseProtocol: .postgres, address: address),
            DatabaseRoute(name: "pg-down", databaseProtocol: .postgres, address: HostAndPort(host: "127.0.0.1", port: 1)),
        ])
    }

    /// A local proxy for a certificate of `user` (database user `user`, database appdb).
    private func proxy(
        _ chain: ProxyChain, user: String, service: String = "pg-tls", localTLS: LocalTLSFiles? = nil,
        notBefore: Date = Date() - 60, validFor: TimeInterval = 3600
    ) async throws -> (LocalProxy, Int) {
        let material = try chain.pki.user(user, service: service, protocolName: "postgres", notBefore: notBefore, validFor: validFor)
        let (proxy, port, _) = try await chain.localProxy(material, localTLS: try localTLS?.loadOrCreate().material)
        return (proxy, port)
    }

    private func psql(_ conninfo: String, _ sql: String, password: String? = nil, interruptAfter: Duration? = nil) async throws -> Command.Result {
        try await Command.run(
            ["psql", conninfo + " connect_timeout=10", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-c", sql],
            environment: password.map { ["PGPASSWORD": $0] } ?? [:], interruptAfter: interruptAfter)
    }

    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    // MARK: Client TLS modes

    @Test("psql and libpq in every sslmode: disable, prefer (no local TLS), require and verify-full (local TLS)",
          arguments: [("disable", false), ("prefer", false), ("require", true), ("verify-full", true)])
    func sslModes(mode: String, localTLS: Bool) async throws {
        let chain = try await startChain()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = localTLS ? LocalTLSFiles(directory: directory) : nil
        let (proxy, port) = try await self.proxy(chain, user: "trustuser", localTLS: files)
        var conninfo = "host=localhost port=\(port) user=trustuser dbname=appdb sslmode=\(mode)"
        if let files { conninfo += " sslrootcert=\(files.caCertificate)" }
        let result = try await psql(conninfo, "select current_user || '@' || current_database()")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "trustuser@appdb\n")
        let facts = try await PGWorkload.run(conninfo, ["roundtrip"])
        #expect(facts.status == 0, "\(facts.output)")
        #expect(facts.facts["ssl_in_use"] == (localTLS ? "1" : "0"), "\(facts.output)")
        #expect(facts.facts["user"] == "trustuser")
        await proxy.stop()
        await chain.stop()
    }

    @Test("a unix socket: psql -h DIR finds DIR/.s.PGSQL.5432 (mode 0600), removed again on stop")
    func unixSocket() async throws {
        let chain = try await startChain()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/.s.PGSQL.5432"
        let material = try chain.pki.user("trustuser", service: "pg-tls", protocolName: "postgres")
        let (proxy, _, _) = try await chain.localProxy(material, unixSocketPath: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let result = try await psql("host=\(directory) port=5432 user=trustuser dbname=appdb", "select 'over ' || current_user")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "over trustuser\n")
        await proxy.stop()
        #expect(!FileManager.default.fileExists(atPath: path))
        await chain.stop()
    }

    @Test("sslmode=require without local TLS: psql's own error, no silent plain text")
    func requireWithoutLocalTLS() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "trustuser")
        let result = try await psql("host=localhost port=\(port) user=trustuser dbname=appdb sslmode=require", "select 1")
        #expect(result.status != 0)
        #expect(result.output.contains("server does not support SSL, but SSL was required"), "\(result.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("direct TLS (sslnegotiation=direct): ALPN postgresql, then a StartupMessage answered by the server")
    func directTLS() async throws {
        let version = try await Command.run(["psql", "--version"]).output
        print("installed libpq: \(version.trimmingCharacters(in: .whitespacesAndNewlines)); sslnegotiation=direct needs libpq 17, so a Python TLS client speaks the protocol here")
        let chain = try await startChain()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = LocalTLSFiles(directory: directory)
        let (proxy, port) = try await self.proxy(chain, user: "trustuser", localTLS: files)
        let script = """
            import socket, ssl, struct, sys
            context = ssl.create_default_context(cafile=sys.argv[2])
            context.set_alpn_protocols(["postgresql"])
            with socket.create_connection(("localhost", int(sys.argv[1])), timeout=10) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    body = struct.pack("!I", 196608) + b"user\\0trustuser\\0database\\0appdb\\0\\0"
                    tls.sendall(struct.pack("!I", len(body) + 4) + body)
                    first = tls.recv(1)
                    print("alpn=%s first=%s" % (tls.selected_alpn_protocol(), first.decode()))
            """
        let result = try await Command.run(["python3", "-c", script, "\(port)", files.caCertificate])
        #expect(result.output == "alpn=postgresql first=R\n", "\(result.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("a TLS ClientHello without local TLS is refused at once: no handshake, no hang")
    func directTLSWithoutLocalTLS() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "trustuser")
        let output = try OpenSSL.sClient(port: port, arguments: ["-alpn", "postgresql", "-servername", "localhost"])
        #expect(!output.contains("ALPN protocol: postgresql"), "\(output.suffix(400))")
        await proxy.stop()
        await chain.stop()
    }

    // MARK: Database TLS and passwords

    @Test("the router reaches the database over TLS (verify-full) or in plain text, as configured",
          arguments: [("pg-tls", "t"), ("pg-plain", "f")])
    func databaseTLS(service: String, expected: String) async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "trustuser", service: service)
        let result = try await psql(
            "host=localhost port=\(port) user=trustuser dbname=appdb sslmode=disable",
            "select ssl from pg_stat_ssl where pid = pg_backend_pid()")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "\(expected)\n")
        await proxy.stop()
        await chain.stop()
    }

    @Test("SCRAM-SHA-256, MD5 and cleartext passwords pass through; a wrong password shows the server's own error",
          arguments: ["pg-tls", "pg-plain"])
    func passwords(service: String) async throws {
        let chain = try await startChain()
        let (alice, alicePort) = try await self.proxy(chain, user: "alice", service: service)
        let scram = try await psql("host=localhost port=\(alicePort) user=alice dbname=appdb", "select current_user", password: "alice-pw")
        #expect(scram.status == 0, "\(scram.output)")
        #expect(scram.output == "alice\n")
        let wrong = try await psql("host=localhost port=\(alicePort) user=alice dbname=appdb", "select 1", password: "wrong")
        #expect(wrong.status != 0)
        #expect(wrong.output.contains("FATAL:  password authentication failed for user \"alice\""), "\(wrong.output)")
        let (clear, clearPort) = try await self.proxy(chain, user: "clearuser", service: service)
        let clearResult = try await psql("host=localhost port=\(clearPort) user=clearuser dbname=appdb", "select current_user", password: "clear-pw")
        #expect(clearResult.status == 0, "\(clearResult.output)")
        #expect(clearResult.output == "clearuser\n")
        await clear.stop()
        let (md5, md5Port) = try await self.proxy(chain, user: "md5user", service: service)
        let md5Result = try await psql("host=localhost port=\(md5Port) user=md5user dbname=appdb", "select current_user", password: "md5-pw")
        #expect(md5Result.status == 0, "\(md5Result.output)")
        #expect(md5Result.output == "md5user\n")
        await alice.stop()
        await md5.stop()
        await chain.stop()
    }

    @Test("SCRAM over local TLS and database TLS with channel_binding=disable (channel binding cannot cross a proxy)")
    func scramOverLocalTLS() async throws {
        let chain = try await startChain()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = LocalTLSFiles(directory: directory)
        let (proxy, port) = try await self.proxy(chain, user: "alice", localTLS: files)
        let result = try await psql(
            "host=localhost port=\(port) user=alice dbname=appdb sslmode=verify-full sslrootcert=\(files.caCertificate) channel_binding=disable",
            "select current_user", password: "alice-pw")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "alice\n")
        await proxy.stop()
        await chain.stop()
    }

    // MARK: Workloads

    @Test("libpq: prepared statements, then COPY FROM STDIN and COPY TO STDOUT with equal digests on both ends")
    func libpqWorkload() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "trustuser")
        let conninfo = "host=localhost port=\(port) user=trustuser dbname=appdb"
        let megabytes = ProcessInfo.processInfo.environment["PG_COPY_MEGABYTES"] ?? "200"
        let prepared = try await PGWorkload.run(conninfo, ["prepared", "--count", "1000"])
        #expect(prepared.status == 0, "\(prepared.output)")
        #expect(prepared.facts["prepared_ok"] == "1000")
        let copyIn = try await PGWorkload.run(conninfo, ["copy-in", "--megabytes", megabytes, "--table", "e2e_copy", "--keep"])
        #expect(copyIn.status == 0, "\(copyIn.output)")
        #expect(copyIn.facts["client_digest"] != nil && copyIn.facts["client_digest"] == copyIn.facts["server_digest"])
        let copyOut = try await PGWorkload.run(conninfo, ["copy-out", "--table", "e2e_copy"])
        #expect(copyOut.status == 0, "\(copyOut.output)")
        #expect(copyOut.facts["client_digest"] == copyIn.facts["server_digest"], "\(copyOut.output)")
        print("COPY through the chain (\(megabytes) MiB): in \(copyIn.facts["mb_per_s"] ?? "?") MiB/s, out \(copyOut.facts["mb_per_s"] ?? "?") MiB/s")
        await proxy.stop()
        await chain.stop()
    }

    @Test("cancel: SELECT pg_sleep(30) cancelled through the chain ends with 57014 within 2 s")
    func cancel() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "trustuser")
        let start = ContinuousClock.now
        let result = try await psql(
            "host=localhost port=\(port) user=trustuser dbname=appdb", "select pg_sleep(30)", interruptAfter: .seconds(1))
        let elapsed = ContinuousClock.now - start
        #expect(result.output.contains("57014: canceling statement due to user request"), "\(result.output)")
        #expect(elapsed < .seconds(3), "cancel took \(elapsed) including the 1 s before it was sent")
        await proxy.stop()
        await chain.stop()
    }

    @Test("pgbench -i, then pgbench -S -c 8 -T 10 through the chain: no failed transaction")
    func pgbench() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice")
        let url = "postgres://alice@localhost:\(port)/appdb"
        let initialize = try await Command.run(["pgbench", "-i", "-q", "-s", "1", url], environment: ["PGPASSWORD": "alice-pw"])
        #expect(initialize.status == 0, "\(initialize.output)")
        let run = try await Command.run(["pgbench", "-S", "-c", "8", "-j", "2", "-T", "10", url], environment: ["PGPASSWORD": "alice-pw"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("number of failed transactions: 0 (0.000%)"), "\(run.output)")
        if let tps = run.output.split(separator: "\n").first(where: { $0.hasPrefix("tps") }) { print("pgbench -S -c 8 through the chain: \(tps)") }
        await proxy.stop()
        await chain.stop()
    }

    // MARK: Identity

    @Test("the certificate's database user and database name are enforced, with the allowed values named")
    func identity() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice")
        let wrongUser = try await psql("host=localhost port=\(port) user=bob dbname=appdb", "select 1", password: "bob-pw")
        #expect(wrongUser.output.contains("FATAL:  access denied: certificate of \"alice\" does not allow database user \"bob\" on pg-tls"), "\(wrongUser.output)")
        #expect(wrongUser.output.contains("DETAIL:  Allowed database users: alice."))
        let wrongDatabase = try await psql("host=localhost port=\(port) user=alice dbname=postgres", "select 1", password: "alice-pw")
        #expect(wrongDatabase.output.contains("FATAL:  access denied: certificate of \"alice\" does not allow database \"postgres\" on pg-tls"), "\(wrongDatabase.output)")
        #expect(wrongDatabase.output.contains("DETAIL:  Allowed databases: appdb."))
        // psql does not print the SQLSTATE of a connection error; read the ErrorResponse itself.
        let fields = try await StartupProbe.errorFields(port: port, user: "bob", database: "appdb")
        #expect(fields["S"] == "FATAL" && fields["V"] == "FATAL" && fields["C"] == "28000", "\(fields)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("a certificate for a service the router does not serve: an ErrorResponse from the router")
    func unknownService() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice", service: "elsewhere")
        let result = try await psql("host=localhost port=\(port) user=alice dbname=appdb", "select 1")
        #expect(result.output.contains("FATAL:  dbproxy router: database service \"elsewhere\" is not configured on this router"), "\(result.output)")
        #expect(try await StartupProbe.errorFields(port: port, user: "alice", database: "appdb")["C"] == "28000")
        #expect(try await chain.routerEvents.first { event -> RouterRejection? in
            if case .rejected(_, _, let reason, _) = event { return reason }
            return nil
        } == .route(.unknownDatabase("elsewhere")))
        await proxy.stop()
        await chain.stop()
    }

    @Test("the database is down: FATAL 08001 from the router naming the database and its address")
    func databaseDown() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice", service: "pg-down")
        let result = try await psql("host=localhost port=\(port) user=alice dbname=appdb", "select 1")
        #expect(result.status != 0)
        #expect(result.output.contains("FATAL:  dbproxy router: database \"pg-down\" at 127.0.0.1:1: cannot connect"), "\(result.output)")
        #expect(try await StartupProbe.errorFields(port: port, user: "alice", database: "appdb")["C"] == "08001")
        await proxy.stop()
        await chain.stop()
    }

    @Test("the router is unreachable: FATAL 08006 from the local proxy naming the router address")
    func routerUnreachable() async throws {
        let pki = try TestPKI()
        let material = try pki.user("alice", service: "pg-tls", protocolName: "postgres")
        let proxy = try LocalProxy(configuration: LocalProxyConfiguration(routerHost: "127.0.0.1", routerPort: 1, tls: material, serverName: "localhost"))
        let port = try await proxy.start().port ?? 0
        let result = try await psql("host=localhost port=\(port) user=alice dbname=appdb", "select 1")
        #expect(result.status != 0)
        #expect(result.output.contains("FATAL:  dbproxy: cannot reach the router at 127.0.0.1:1"), "\(result.output)")
        #expect(result.output.contains("HINT:  Check that the router (dbproxy serve) is running"))
        #expect(try await StartupProbe.errorFields(port: port, user: "alice", database: "appdb")["C"] == "08006")
        await proxy.stop()
    }

    @Test("the router refuses the certificate (another CA): FATAL 08006 from the local proxy")
    func certificateRefusedByRouter() async throws {
        let chain = try await startChain()
        let otherCA = try DevCertificateAuthority.make(commonName: "Someone else's CA")
        let material = try chain.pki.user("alice", service: "pg-tls", protocolName: "postgres", issuer: otherCA)
        let (proxy, port, _) = try await chain.localProxy(material)
        let result = try await psql("host=localhost port=\(port) user=alice dbname=appdb", "select 1")
        #expect(result.status != 0)
        #expect(result.output.contains("FATAL:  dbproxy: the router refused the TLS connection"), "\(result.output)")
        #expect(result.output.contains("HINT:  Check that the router trusts the CA that issued your certificate"))
        await proxy.stop()
        await chain.stop()
    }

    @Test("an expired certificate: an ErrorResponse from the local proxy naming the expiry time")
    func expiredCertificate() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, user: "alice", notBefore: Date() - 7200, validFor: 3600)
        let result = try await psql("host=localhost port=\(port) user=alice dbname=appdb", "select 1")
        #expect(result.status != 0)
        #expect(result.output.contains("FATAL:  dbproxy: certificate expired at "), "\(result.output)")
        #expect(try await StartupProbe.errorFields(port: port, user: "alice", database: "appdb")["C"] == "28000")
        #expect(result.output.contains("HINT:  Issue a new certificate"))
        await proxy.stop()
        await chain.stop()
    }
}

/// Sends a StartupMessage the way libpq does (a Python client, so the test does not share the
/// proxy's codecs) and returns the fields of the ErrorResponse that answers it.
enum StartupProbe {
    static func errorFields(port: Int, user: String, database: String) async throws -> [String: String] {
        let script = """
            import socket, struct, sys
            with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as s:
                body = struct.pack("!I", 196608) + b"user\\0" + sys.argv[2].encode() + b"\\0database\\0" + sys.argv[3].encode() + b"\\0\\0"
                s.sendall(struct.pack("!I", len(body) + 4) + body)
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk: break
                    data += chunk
                while data:
                    kind, length = data[0:1], struct.unpack("!I", data[1:5])[0]
                    payload, data = data[5:1 + length], data[1 + length:]
                    if kind == b"E":
                        for field in payload.split(b"\\0"):
                            if field: print(field[:1].decode() + "=" + field[1:].decode())
                        break
            """
        let result = try await Command.run(["python3", "-c", script, "\(port)", user, database])
        var fields: [String: String] = [:]
        for line in result.output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return fields
    }
}
