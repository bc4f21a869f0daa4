import Foundation
import Logging
import NIOCore
import NIOSSL
import ProxyCore
import ServerALPN
import Testing

/// `mysql_listen_addr` and `mongo_listen_addr`: the mariadb client with --ssl-cert/--ssl-key/
/// --ssl-ca and pymongo with tlsCertificateKeyFile reach the real databases of scripts/dev-db
/// straight through the router, no local proxy; the certificate says which database.
@Suite("mysql_listen_addr and mongo_listen_addr end to end", .serialized)
struct ProtocolListenersEndToEndTests {
    private struct Files {
        let directory: String
        let cert: String
        let key: String
        let hostCA: String
        /// Certificate and key in one file, as pymongo's tlsCertificateKeyFile wants.
        let combined: String
    }

    private func startRouter(pki: TestPKI, mysqlVersion: String? = nil) async throws -> Router {
        try await DevDatabase.requireMariaDB()
        let roots = try TLSMaterial.loadCertificates(file: try DevDatabase.tlsCA())
        let maria = HostAndPort(host: DevDatabase.mariaDBHost, port: DevDatabase.mariaDBPort)
        var configuration = RouterConfiguration(
            listenAddress: HostAndPort(host: "127.0.0.1", port: 0),
            certificateChain: try pki.serverChain, privateKey: try pki.serverKey, clientCA: try pki.userCACertificates,
            databases: [
                DatabaseRoute(
                    name: "my-tls", databaseProtocol: .mysql, address: maria,
                    tls: DatabaseTLS(mode: .verifyFull, trustRoots: roots, serverName: "localhost")),
                DatabaseRoute(name: "my-plain", databaseProtocol: .mysql, address: maria),
                DatabaseRoute(name: "my-down", databaseProtocol: .mysql, address: HostAndPort(host: "127.0.0.1", port: 1)),
                DatabaseRoute(
                    name: "pg", databaseProtocol: .postgres,
                    address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort)),
                DatabaseRoute(name: "mongo", databaseProtocol: .mongodb, address: HostAndPort(host: DevDatabase.mongoHost, port: DevDatabase.mongoPort)),
            ],
            timeouts: ProxyTimeouts(handshake: .seconds(15), connect: .seconds(5), login: .seconds(60)))
        configuration.mysqlListenAddress = HostAndPort(host: "127.0.0.1", port: 0)
        configuration.mongoListenAddress = HostAndPort(host: "127.0.0.1", port: 0)
        if let mysqlVersion { configuration.mysqlServerVersion = mysqlVersion }
        var logger = Logger(label: "test.router")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let router = Router(configuration: configuration, logger: logger)
        _ = try await router.start()
        return router
    }

    private func files(_ pki: TestPKI, user: String, service: String, protocolName: String, database: String = "appdb") throws -> Files {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-listen-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let issued = try pki.userCA.issueUser(UserCertificateRequest(
            user: user, route: RouteToDatabase(serviceName: service, protocolName: protocolName, username: user, database: database)))
        let paths = try pki.writeFiles(user: issued, to: directory)
        let combined = directory + "/user-combined.pem"
        try DevCertificateFiles.write(try issued.certificatePEM + issued.privateKeyPEM, to: combined, secret: true)
        return Files(directory: directory, cert: paths.cert, key: paths.key, hostCA: paths.hostCA, combined: combined)
    }

    private func mariadb(port: Int, user: String, password: String, files: Files?, extra: [String] = [], _ sql: String) async throws -> Command.Result {
        let tls = files.map { ["--ssl-cert=\($0.cert)", "--ssl-key=\($0.key)", "--ssl-ca=\($0.hostCA)", "--ssl-verify-server-cert"] } ?? []
        return try await Command.run([
            "mariadb", "--no-defaults", "--host=localhost", "--port=\(port)", "--protocol=TCP", "--user=\(user)",
            "--password=\(password)", "--database=appdb", "--connect-timeout=10", "--batch", "--skip-column-names",
        ] + tls + extra + ["-e", sql])
    }

    @Test("the mariadb client with --ssl-cert/--ssl-key/--ssl-ca logs in to mysql_listen_addr: password and ed25519 users, database over TLS or not",
          arguments: [("my-tls", "TLSv1.3"), ("my-plain", "")])
    func mysqlLogin(service: String, databaseTLS: String) async throws {
        let pki = try TestPKI()
        let router = try await startRouter(pki: pki)
        let port = try #require(router.mysqlListenerAddress?.port)
        for (user, password) in [("alice", "alice-pw"), ("eduser", "ed-pw")] {
            let files = try files(pki, user: user, service: service, protocolName: "mysql")
            defer { try? FileManager.default.removeItem(atPath: files.directory) }
            let result = try await mariadb(
                port: port, user: user, password: password, files: files,
                "select current_user(), database(); show session status like 'Ssl_version'; select version() like '%MariaDB%'")
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output == "\(user)@%\tappdb\nSsl_version\t\(databaseTLS)\n1\n", "\(result.output)")
            // The client's own TLS to the router, as the mariadb client reports it with \s (a TLS 1.3 suite).
            let status = try await mariadb(port: port, user: user, password: password, files: files, extra: ["--table"], "\\s")
            #expect(status.output.contains("SSL:\t\t\tCipher in use is TLS_AES_"), "\(status.output)")
            #expect(status.output.contains("8.0.0-dbproxy"), "\(status.output)")
        }
        let wrong = try files(pki, user: "alice", service: service, protocolName: "mysql")
        defer { try? FileManager.default.removeItem(atPath: wrong.directory) }
        let badPassword = try await mariadb(port: port, user: "alice", password: "not-it", files: wrong, "select 1")
        #expect(badPassword.output.contains("ERROR 1045 (28000): Access denied for user 'alice'"), "\(badPassword.output)")
        let otherUser = try await mariadb(port: port, user: "eduser", password: "ed-pw", files: wrong, "select 1")
        #expect(otherUser.output.contains("ERROR 1045 (28000): dbproxy router: access denied for user 'eduser'"), "\(otherUser.output)")
        await router.stop(deadline: .now() + .seconds(1))
    }

    @Test("mysql_listen_addr refuses in the client's protocol: no TLS, no client certificate, a certificate for another protocol, a database that is down")
    func mysqlRefusals() async throws {
        let pki = try TestPKI()
        let router = try await startRouter(pki: pki, mysqlVersion: "8.0.36-edge")
        let port = try #require(router.mysqlListenerAddress?.port)
        let plain = try await mariadb(port: port, user: "alice", password: "alice-pw", files: nil, extra: ["--skip-ssl"], "select 1")
        #expect(plain.status != 0)
        #expect(plain.output.contains("ERROR 3159 (HY000): dbproxy router: TLS with a client certificate is required on this port"), "\(plain.output)")

        let noCertificate = try await mariadb(
            port: port, user: "alice", password: "alice-pw", files: nil, extra: ["--ssl", "--ssl-verify-server-cert", "--ssl-ca=\(try writeHostCA(pki))"],
            "select 1")
        #expect(noCertificate.output.contains("ERROR 1045 (28000): dbproxy router: a client certificate issued by the user CA is required"), "\(noCertificate.output)")

        let postgres = try files(pki, user: "alice", service: "pg", protocolName: "postgres")
        defer { try? FileManager.default.removeItem(atPath: postgres.directory) }
        let wrongProtocol = try await mariadb(port: port, user: "alice", password: "alice-pw", files: postgres, "select 1")
        #expect(wrongProtocol.output.contains("ERROR 1045 (28000): dbproxy router: certificate names database service \"pg\", which speaks postgres"), "\(wrongProtocol.output)")

        let down = try files(pki, user: "alice", service: "my-down", protocolName: "mysql")
        defer { try? FileManager.default.removeItem(atPath: down.directory) }
        let unreachable = try await mariadb(port: port, user: "alice", password: "alice-pw", files: down, "select 1")
        #expect(unreachable.output.contains("ERROR 1105 (HY000): dbproxy router: can't connect to database \"my-down\""), "\(unreachable.output)")

        // After all that, a good login on the same listener (and the configured version in the greeting).
        let good = try files(pki, user: "alice", service: "my-plain", protocolName: "mysql")
        defer { try? FileManager.default.removeItem(atPath: good.directory) }
        let after = try await mariadb(port: port, user: "alice", password: "alice-pw", files: good, extra: ["--table"], "\\s")
        #expect(after.status == 0, "\(after.output)")
        #expect(after.output.contains("8.0.36-edge"), "\(after.output)")
        await router.stop(deadline: .now() + .seconds(1))
    }

    @Test("mysqlslap at concurrency 8 through mysql_listen_addr")
    func mysqlslap() async throws {
        let pki = try TestPKI()
        let router = try await startRouter(pki: pki)
        let port = try #require(router.mysqlListenerAddress?.port)
        let files = try files(pki, user: "alice", service: "my-tls", protocolName: "mysql")
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        let result = try await Command.run([
            "mariadb-slap", "--no-defaults", "--host=localhost", "--port=\(port)", "--protocol=TCP", "--user=alice", "--password=alice-pw",
            "--ssl-cert=\(files.cert)", "--ssl-key=\(files.key)", "--ssl-ca=\(files.hostCA)", "--ssl-verify-server-cert",
            "--create-schema=appdb", "--concurrency=8", "--iterations=2", "--number-of-queries=400", "--query=select 1",
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("Number of clients running queries: 8"), "\(result.output)")
        await router.stop(deadline: .now() + .seconds(1))
    }

    private func writeHostCA(_ pki: TestPKI) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-hostca-\(UUID().uuidString).pem").path
        try DevCertificateFiles.write(try pki.hostCA.ca.certificatePEM, to: path, secret: false)
        return path
    }

    @Test("pymongo with tls=true and tlsCertificateKeyFile reaches the MongoDB server through mongo_listen_addr; plain text and other protocols refused")
    func mongo() async throws {
        try await DevDatabase.requireMongo()
        let pki = try TestPKI()
        let router = try await startRouter(pki: pki)
        let port = try #require(router.mongoListenerAddress?.port)
        print("MongoDB server: \(DevDatabase.mongoKind) on \(DevDatabase.mongoHost):\(DevDatabase.mongoPort)")
        let files = try files(pki, user: "alice", service: "mongo", protocolName: "mongodb")
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        let base = "mongodb://alice:alice-pw@localhost:\(port)/appdb?authSource=admin&directConnection=true&serverSelectionTimeoutMS=5000"
        let tls = "&tls=true&tlsCAFile=\(files.hostCA)&tlsCertificateKeyFile=\(files.combined)"
        let run = try await MongoWorkload.run(base + tls, ["crud", "--count", "3000", "--batch-size", "1000"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.facts["inserted"] == "3000", "\(run.output)")
        #expect(run.facts["found"] == "3000", "\(run.output)")

        let plain = try await MongoWorkload.run(base.replacingOccurrences(of: "5000", with: "1500"), ["command"])
        #expect(plain.status != 0, "\(plain.output)")

        let postgres = try self.files(pki, user: "alice", service: "pg", protocolName: "postgres")
        defer { try? FileManager.default.removeItem(atPath: postgres.directory) }
        let wrong = try await MongoWorkload.run(
            base.replacingOccurrences(of: "5000", with: "1500") + "&tls=true&tlsCAFile=\(postgres.hostCA)&tlsCertificateKeyFile=\(postgres.combined)",
            ["command"])
        #expect(wrong.status != 0, "\(wrong.output)")

        let again = try await MongoWorkload.run(base + tls, ["command"])
        #expect(again.status == 0, "\(again.output)")
        await router.stop(deadline: .now() + .seconds(1))
    }
}
