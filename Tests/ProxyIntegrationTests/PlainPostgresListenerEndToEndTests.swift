import Foundation
import Logging
import NIOCore
import NIOSSL
import ProxyCore
import ServerALPN
import Testing

/// `postgres_listen_addr`: a second listener, started only when set, where psql with
/// sslcert/sslkey/sslrootcert reaches the real PostgreSQL of scripts/dev-db as on the main port;
/// and a PROXY protocol header before the SSLRequest, on either port.
@Suite("postgres_listen_addr end to end", .serialized)
struct PlainPostgresListenerEndToEndTests {
    /// The router and its main port.
    private func startRouter(
        pki: TestPKI, postgresListener: Bool, proxyProtocol: ProxyProtocolConfiguration? = nil, extraKeypairs: [ServerKeypair] = []
    ) async throws -> (Router, Int) {
        try await DevDatabase.requirePostgres()
        var configuration = RouterConfiguration(
            listenAddress: HostAndPort(host: "127.0.0.1", port: 0),
            certificateChain: try pki.serverChain, privateKey: try pki.serverKey, clientCA: try pki.userCACertificates,
            databases: [DatabaseRoute(
                name: "pg-plain", databaseProtocol: .postgres,
                address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort))],
            timeouts: ProxyTimeouts(handshake: .seconds(15), connect: .seconds(5), login: .seconds(60)))
        configuration.proxyProtocol = proxyProtocol
        configuration.additionalKeypairs = extraKeypairs
        if postgresListener { configuration.postgresListenAddress = HostAndPort(host: "127.0.0.1", port: 0) }
        var logger = Logger(label: "test.router")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let router = Router(configuration: configuration, logger: logger)
        let address = try await router.start()
        return (router, address.port ?? 0)
    }

    /// Certificate files of trustuser for pg-plain in a new temporary directory.
    private func files(_ pki: TestPKI) throws -> (directory: String, cert: String, key: String, hostCA: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-pglisten-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let issued = try pki.userCA.issueUser(UserCertificateRequest(
            user: "trustuser", route: RouteToDatabase(serviceName: "pg-plain", protocolName: "postgres", username: "trustuser", database: "appdb")))
        let paths = try pki.writeFiles(user: issued, to: directory)
        return (directory, paths.cert, paths.key, paths.hostCA)
    }

    @Test("psql verify-full to postgres_listen_addr: trustuser; plain text refused; no listener unless set")
    func listener() async throws {
        let pki = try TestPKI()
        let (router, _) = try await startRouter(pki: pki, postgresListener: true)
        let port = try #require(router.postgresListenerAddress?.port)
        let files = try files(pki)
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        let conninfo = "host=localhost port=\(port) user=trustuser dbname=appdb sslmode=verify-full "
            + "sslcert=\(files.cert) sslkey=\(files.key) sslrootcert=\(files.hostCA) connect_timeout=10"
        let result = try await Command.run(["psql", conninfo, "-X", "-At", "-c", "select current_user"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "trustuser\n")
        let plain = try await Command.run(["psql", "host=localhost port=\(port) user=trustuser dbname=appdb sslmode=disable", "-X", "-At", "-c", "select 1"])
        #expect(plain.output.contains("TLS with a client certificate is required"), "\(plain.output)")
        await router.stop(deadline: .now() + .seconds(1))
        let after = try await Command.run(["psql", conninfo, "-X", "-At", "-c", "select 1"])
        #expect(after.status != 0, "\(after.output)")

        let (without, _) = try await startRouter(pki: pki, postgresListener: false)
        #expect(without.postgresListenerAddress == nil)
        await without.stop(deadline: .now() + .seconds(1))
    }

    @Test("psql's server name chooses the keypair during the handshake after its SSLRequest")
    func keypairByServerName() async throws {
        let pki = try TestPKI()
        let other = try pki.hostCA.issueServer(commonName: "db", dnsNames: ["db.example.com"], ipAddresses: [])
        let keypair = ServerKeypair(
            certificateChain: [try TestPKI.nio(try other.certificatePEM)],
            privateKey: try NIOSSLPrivateKey(bytes: Array(other.privateKeyPEM.utf8), format: .pem))
        let (router, port) = try await startRouter(pki: pki, postgresListener: false, extraKeypairs: [keypair])
        let files = try files(pki)
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        // hostaddr dials loopback while host is the server name libpq sends and verifies.
        for host in ["db.example.com", "localhost"] {
            let conninfo = "host=\(host) hostaddr=127.0.0.1 port=\(port) user=trustuser dbname=appdb sslmode=verify-full "
                + "sslcert=\(files.cert) sslkey=\(files.key) sslrootcert=\(files.hostCA) connect_timeout=10"
            let result = try await Command.run(["psql", conninfo, "-X", "-At", "-c", "select current_user"])
            #expect(result.status == 0, "\(host): \(result.output)")
            #expect(result.output == "trustuser\n", "\(host)")
        }
        await router.stop(deadline: .now() + .seconds(1))
    }

    @Test("a PROXY v1 header, then an SSLRequest and TLS with the certificate: AuthenticationOk; the header's client is reported",
          arguments: [false, true])
    func proxyHeaderThenSSLRequest(onPostgresListener: Bool) async throws {
        let pki = try TestPKI()
        let (router, mainPort) = try await startRouter(
            pki: pki, postgresListener: true,
            proxyProtocol: ProxyProtocolConfiguration(trustedNetworks: [try IPNetwork(parsing: "127.0.0.0/8")]))
        let events = EventRecorder<RouterEvent>()
        events.record(router.events)
        let port = onPostgresListener ? try #require(router.postgresListenerAddress?.port) : mainPort
        let files = try files(pki)
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        let script = """
            import socket, ssl, struct, sys
            port, cert, key, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
            context = ssl.create_default_context(cafile=ca)
            context.load_cert_chain(cert, key)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                raw.sendall(b"PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\\r\\n" + struct.pack("!II", 8, 80877103))
                answer = raw.recv(1)
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    body = struct.pack("!I", 196608) + b"user\\0trustuser\\0database\\0appdb\\0\\0"
                    tls.sendall(struct.pack("!I", len(body) + 4) + body)
                    first = tls.recv(1)
                    print("answer=%s first=%s" % (answer.decode(), first.decode()))
            """
        let result = try await Command.run(["python3", "-c", script, "\(port)", files.cert, files.key, files.hostCA])
        #expect(result.output == "answer=S first=R\n", "\(result.output)")
        let routed = try await events.first { event -> RoutedConnection? in
            if case .routed(let routed) = event { return routed }
            return nil
        }
        #expect(routed.clientAddress == HostAndPort(host: "203.0.113.7", port: 5555))
        #expect(routed.database == "pg-plain" && routed.user == "trustuser")
        await router.stop(deadline: .now() + .seconds(1))
    }

    @Test("PostgreSQL 17 direct TLS (ALPN postgresql, no SSLRequest) on the main port and postgres_listen_addr: AuthenticationOk; without a certificate an ErrorResponse",
          arguments: [false, true])
    func directTLS(onPostgresListener: Bool) async throws {
        let pki = try TestPKI()
        let (router, mainPort) = try await startRouter(pki: pki, postgresListener: true)
        let port = onPostgresListener ? try #require(router.postgresListenerAddress?.port) : mainPort
        let files = try files(pki)
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        // What libpq 17 does with sslnegotiation=direct (the psql here predates it): TLS at once,
        // ALPN postgresql, then the StartupMessage inside.
        let script = """
            import socket, ssl, struct, sys
            port, cert, key, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
            for with_cert in (True, False):
                context = ssl.create_default_context(cafile=ca)
                context.set_alpn_protocols(["postgresql"])
                if with_cert:
                    context.load_cert_chain(cert, key)
                with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                    with context.wrap_socket(raw, server_hostname="localhost") as tls:
                        body = struct.pack("!I", 196608) + b"user\\0trustuser\\0database\\0appdb\\0\\0"
                        tls.sendall(struct.pack("!I", len(body) + 4) + body)
                        reply = b""
                        while len(reply) < 4096:
                            chunk = tls.recv(4096)
                            if not chunk:
                                break
                            reply += chunk
                            if reply[:1] == b"R":
                                break
                        text = reply[5:].replace(b"\\0", b"|").decode(errors="replace") if reply[:1] == b"E" else ""
                        print("alpn=%s first=%s text=%s" % (tls.selected_alpn_protocol(), reply[:1].decode(), text))
            """
        let result = try await Command.run(["python3", "-c", script, "\(port)", files.cert, files.key, files.hostCA])
        let lines = result.output.split(separator: "\n").map(String.init)
        try #require(lines.count == 2, "\(result.output)")
        #expect(lines[0].hasPrefix("alpn=postgresql first=R"), "\(result.output)")
        #expect(lines[1].hasPrefix("alpn=postgresql first=E"), "\(result.output)")
        #expect(lines[1].contains("a client certificate issued by the user CA is required"), "\(result.output)")
        await router.stop(deadline: .now() + .seconds(1))
    }
}
