import Foundation
import LocalDBProxy
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// The router's JSON-lines audit log with real clients: psql -> local proxy -> router -> the
/// dev PostgreSQL, and the mariadb client to the dev MariaDB; records read back from the file
/// after the router stopped.
@Suite("Audit log end to end", .serialized)
struct AuditEndToEndTests {
    /// A chain whose router writes its audit log to a temporary file.
    private func startChain(statements: Bool) async throws -> (ProxyChain, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).jsonl").path
        let pki = try TestPKI()
        let backend = try await TestBackend.start(.echo)
        let configuration = RouterConfiguration(
            listenAddress: HostAndPort(host: "127.0.0.1", port: 0),
            certificateChain: try pki.serverChain, privateKey: try pki.serverKey, clientCA: try pki.userCACertificates,
            databases: [
                DatabaseRoute(name: "pg-plain", databaseProtocol: .postgres, address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort)),
                DatabaseRoute(name: "my-plain", databaseProtocol: .mysql, address: HostAndPort(host: DevDatabase.mariaDBHost, port: DevDatabase.mariaDBPort)),
                DatabaseRoute(name: "echo1", databaseProtocol: .redis, address: HostAndPort(host: "127.0.0.1", port: backend.port)),
            ],
            pingInterval: .milliseconds(50), timeouts: ProxyTimeouts(handshake: .seconds(15), connect: .seconds(5), login: .seconds(60)),
            audit: AuditConfiguration(destination: .file(path), statements: statements))
        let router = Router(configuration: configuration)
        let chain = ProxyChain(pki: pki, backend: backend, router: router, routerAddress: try await router.start())
        return (chain, path)
    }

    /// The records of the log, each a JSON object.
    private func records(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
    }

    private func psql(port: Int, _ statements: [String]) async throws -> Command.Result {
        try await Command.run(
            ["psql", "host=localhost port=\(port) user=trustuser dbname=appdb sslmode=disable connect_timeout=10", "-X", "-At", "-v", "ON_ERROR_STOP=1"]
                + statements.flatMap { ["-c", $0] })
    }

    @Test("a psql session with three statements: session.start, three statements with their texts, session.end")
    func psqlSession() async throws {
        try await DevDatabase.requirePostgres()
        let (chain, path) = try await startChain(statements: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let material = try chain.pki.user("trustuser", service: "pg-plain", protocolName: "postgres")
        let (proxy, port, _) = try await chain.localProxy(material)
        let texts = ["select 1", "select 'two'", "select 3 + 4"]
        let result = try await psql(port: port, texts)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "1\ntwo\n7\n")
        await proxy.stop()
        await chain.stop()

        let records = try self.records(path)
        #expect(records.map { $0["type"] as? String } == ["session.start", "statement", "statement", "statement", "session.end"], "\(records)")
        guard records.count == 5 else { return }
        let start = records[0], end = records[4]
        let connection = start["connection"] as? Int
        for record in [start, end] {
            #expect(record["user"] as? String == "trustuser")
            #expect(record["roles"] as? [String] == ["dev"])
            #expect(record["service"] as? String == "pg-plain")
            #expect(record["protocol"] as? String == "postgres")
            #expect(record["database_user"] as? String == "trustuser")
            #expect(record["database_name"] as? String == "appdb")
            #expect((record["client_address"] as? String)?.hasPrefix("127.0.0.1:") == true)
            #expect((record["certificate_serial"] as? String)?.isEmpty == false)
            #expect(record["connection"] as? Int == connection)
            #expect((record["time"] as? String)?.hasSuffix("Z") == true)
        }
        #expect(records[1...3].map { $0["text"] as? String } == texts)
        #expect(records[1...3].allSatisfy { $0["kind"] as? String == "query" && $0["connection"] as? Int == connection && $0["truncated"] as? Bool == false })
        #expect((end["bytes_from_client"] as? Int ?? 0) > 0)
        #expect((end["bytes_to_client"] as? Int ?? 0) > 0)
        #expect((end["duration_ms"] as? Int ?? -1) >= 0)
        #expect(end["reason"] as? String == "client closed", "\(end)")
        #expect(chain.router.audit?.droppedRecords == 0)
    }

    @Test("without statements: session records only")
    func withoutStatements() async throws {
        try await DevDatabase.requirePostgres()
        let (chain, path) = try await startChain(statements: false)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let material = try chain.pki.user("trustuser", service: "pg-plain", protocolName: "postgres")
        let (proxy, port, _) = try await chain.localProxy(material)
        let result = try await psql(port: port, ["select 1", "select 2"])
        #expect(result.status == 0, "\(result.output)")
        await proxy.stop()
        await chain.stop()
        #expect(try records(path).map { $0["type"] as? String } == ["session.start", "session.end"])
    }

    @Test("a mariadb session: the login's user and database, its COM_QUERY")
    func mariadbSession() async throws {
        try await DevDatabase.requireMariaDB()
        let (chain, path) = try await startChain(statements: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let material = try chain.pki.user("alice", service: "my-plain", protocolName: "mysql")
        let (proxy, port, _) = try await chain.localProxy(material)
        let result = try await Command.run([
            "mariadb", "--no-defaults", "--host=127.0.0.1", "--port=\(port)", "--protocol=TCP", "--user=alice", "--password=alice-pw",
            "--database=appdb", "--connect-timeout=10", "--batch", "--skip-column-names", "-e", "select 6 * 7",
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "42\n")
        await proxy.stop()
        await chain.stop()

        let records = try self.records(path)
        let types = records.map { $0["type"] as? String }
        #expect(types.first == "session.start" && types.last == "session.end", "\(records)")
        let start = try #require(records.first)
        #expect(start["protocol"] as? String == "mysql")
        #expect(start["service"] as? String == "my-plain")
        #expect(start["database_user"] as? String == "alice")
        #expect(start["database_name"] as? String == "appdb")
        let queries = records.filter { $0["type"] as? String == "statement" }
        #expect(queries.contains { $0["kind"] as? String == "com_query" && $0["text"] as? String == "select 6 * 7" }, "\(queries)")
    }

    @Test("a database without a protocol handler (redis, spliced as TCP): session records with its byte counts")
    func tcpDatabase() async throws {
        let (chain, path) = try await startChain(statements: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let material = try chain.pki.user("alice", service: "echo1", protocolName: "redis")
        let (proxy, port, _) = try await chain.localProxy(material)
        let exchange = try await TestClient.exchange(port: port, total: 5000)
        #expect(exchange.receivedBytes == 5000)
        await proxy.stop()
        await chain.stop()
        let records = try self.records(path)
        #expect(records.map { $0["type"] as? String } == ["session.start", "session.end"], "\(records)")
        #expect(records.last?["protocol"] as? String == "redis")
        #expect(records.last?["bytes_from_client"] as? Int == 5000)
        #expect(records.last?["bytes_to_client"] as? Int == 5000)
        #expect(records.last?["reason"] as? String == "client closed")
    }
}
