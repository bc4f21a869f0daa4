import Foundation
import LocalDBProxy
import NIOCore
import NIOPosix
import ProxyCore
import ServerALPN
import Testing

/// `maxConnections`: the connection over the limit is refused in the client's own protocol
/// (psql, mariadb, pymongo show it), and a connection is admitted again once one closes.
@Suite("Local proxy connection limit", .serialized)
struct MaxConnectionsTests {
    /// A plain TCP connection to the local proxy that sends nothing: it occupies a slot.
    private func occupy(port: Int) async throws -> Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
    }

    private func chain(_ database: DatabaseRoute) async throws -> ProxyChain {
        try await ProxyChain.start(databases: [database])
    }

    /// Waits until the proxy counts `count` open connections.
    private func waitForOpen(_ proxy: LocalProxy, _ count: Int) async throws {
        for _ in 0..<500 where proxy.openConnections != count { try await Task.sleep(for: .milliseconds(10)) }
        #expect(proxy.openConnections == count)
    }

    @Test("psql over the limit: FATAL 53300 naming the limit; admitted again once the slot is free")
    func postgres() async throws {
        try await DevDatabase.requirePostgres()
        let chain = try await chain(DatabaseRoute(
            name: "pg", databaseProtocol: .postgres, address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort)))
        let material = try chain.pki.user("trustuser", service: "pg", protocolName: "postgres")
        let (proxy, port, events) = try await chain.localProxy(material, configure: { $0.maxConnections = 1 })
        let held = try await occupy(port: port)
        try await waitForOpen(proxy, 1)
        let conninfo = "host=127.0.0.1 port=\(port) user=trustuser dbname=appdb sslmode=disable"
        let refused = try await Command.run(["psql", "-X", "-At", conninfo, "-c", "select 1"])
        #expect(refused.status != 0)
        #expect(refused.output.contains("FATAL:  dbproxy: too many connections: the local proxy allows 1 at a time"), "\(refused.output)")
        #expect(try await StartupProbe.errorFields(port: port, user: "trustuser", database: "appdb")["C"] == "53300")
        _ = try await events.first { event -> Bool? in
            if case .connectionFailed(_, _, .tooManyConnections(1)) = event { return true }
            return nil
        }
        try await held.close().get()
        try await waitForOpen(proxy, 0)
        let admitted = try await Command.run(["psql", "-X", "-At", conninfo, "-c", "select 1"])
        #expect(admitted.status == 0, "\(admitted.output)")
        #expect(admitted.output == "1\n")
        await proxy.stop()
        await chain.stop()
    }

    @Test("mariadb over the limit: ERR 1040 (08004) in place of the greeting")
    func mysql() async throws {
        try await DevDatabase.requireMariaDB()
        let chain = try await chain(DatabaseRoute(
            name: "my", databaseProtocol: .mysql, address: HostAndPort(host: DevDatabase.mariaDBHost, port: DevDatabase.mariaDBPort)))
        let material = try chain.pki.user("alice", service: "my", protocolName: "mysql")
        let (proxy, port, _) = try await chain.localProxy(material, configure: { $0.maxConnections = 1 })
        let held = try await occupy(port: port)
        try await waitForOpen(proxy, 1)
        let refused = try await Command.run([
            "mariadb", "--no-defaults", "--host=127.0.0.1", "--port=\(port)", "--protocol=TCP", "--user=alice",
            "--password=alice-pw", "--database=appdb", "-e", "select 1",
        ])
        #expect(refused.status != 0)
        // The MariaDB client reports errors that arrive before its TLS attempt under its own 2002.
        #expect(refused.output.contains("1040 - dbproxy: too many connections: the local proxy allows 1 at a time"), "\(refused.output)")
        let plain = try await Command.run([
            "mariadb", "--no-defaults", "--skip-ssl", "--host=127.0.0.1", "--port=\(port)", "--protocol=TCP", "--user=alice",
            "--password=alice-pw", "--database=appdb", "-e", "select 1",
        ])
        #expect(plain.output.hasPrefix("ERROR 1040 (08004): dbproxy: too many connections"), "\(plain.output)")
        try await held.close().get()
        await proxy.stop()
        await chain.stop()
    }

    @Test("pymongo over the limit: the reply to its hello says why")
    func mongo() async throws {
        try await DevDatabase.requireMongo()
        let chain = try await chain(DatabaseRoute(
            name: "mongo", databaseProtocol: .mongodb, address: HostAndPort(host: DevDatabase.mongoHost, port: DevDatabase.mongoPort)))
        let material = try chain.pki.user("alice", service: "mongo", protocolName: "mongodb")
        // pymongo opens a monitoring connection and an application connection: allow one.
        let (proxy, port, _) = try await chain.localProxy(material, configure: { $0.maxConnections = 1 })
        let held = try await occupy(port: port)
        try await waitForOpen(proxy, 1)
        let run = try await MongoWorkload.run(
            "mongodb://alice:alice-pw@127.0.0.1:\(port)/appdb?authSource=admin&directConnection=true&serverSelectionTimeoutMS=2000", ["command"])
        #expect(run.status == 1)
        #expect(run.facts["error"]?.contains("dbproxy: too many connections: the local proxy allows 1 at a time") == true, "\(run.output)")
        try await held.close().get()
        await proxy.stop()
        await chain.stop()
    }
}
