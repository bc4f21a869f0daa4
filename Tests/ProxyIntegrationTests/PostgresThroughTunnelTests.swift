import Foundation
import LocalDBProxy
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// psql -> local proxy -> router -> a real PostgreSQL (scripts/dev-db), bytes carried opaquely.
@Suite("PostgreSQL through the tunnel", .serialized)
struct PostgresThroughTunnelTests {
    /// Router with database `pg1` pointing at the dev PostgreSQL, and a local proxy for `user`.
    private func start(user: String) async throws -> (ProxyChain, LocalProxy, Int) {
        try await DevDatabase.requirePostgres()
        let pki = try TestPKI()
        let chain = try await ProxyChain.start(pki: pki, databases: [
            DatabaseRoute(name: "pg1", databaseProtocol: .postgres, address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort))
        ])
        let (proxy, port, _) = try await chain.localProxy(try pki.user(user, service: "pg1", protocolName: "postgres"))
        return (chain, proxy, port)
    }

    private func psql(port: Int, user: String, sslmode: String, _ sql: String, password: String? = nil) async throws -> Command.Result {
        try await Command.run(
            ["psql", "host=127.0.0.1 port=\(port) user=\(user) dbname=appdb sslmode=\(sslmode) connect_timeout=10", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: password.map { ["PGPASSWORD": $0] } ?? [:])
    }

    @Test("psql runs a query through the chain (sslmode disable and prefer)", arguments: ["disable", "prefer"])
    func query(sslmode: String) async throws {
        let (chain, proxy, port) = try await start(user: "trustuser")
        let result = try await psql(port: port, user: "trustuser", sslmode: sslmode, "select 'through ' || current_user || ' ' || current_database()")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "through trustuser appdb\n")
        await proxy.stop()
        await chain.stop()
    }

    @Test("200,000 rows arrive intact: the same digest through the chain as directly")
    func largeResult() async throws {
        let (chain, proxy, port) = try await start(user: "trustuser")
        let sql = "select md5(string_agg(g::text || repeat('x', g % 97), ',' order by g)) from generate_series(1, 200000) g"
        let tunnelled = try await psql(port: port, user: "trustuser", sslmode: "disable", sql)
        let direct = try await psql(port: DevDatabase.postgresPort, user: "trustuser", sslmode: "disable", sql)
        #expect(tunnelled.status == 0, "\(tunnelled.output)")
        #expect(direct.status == 0, "\(direct.output)")
        #expect(tunnelled.output.count == 33)
        #expect(tunnelled.output == direct.output)
        await proxy.stop()
        await chain.stop()
    }

    @Test("SCRAM-SHA-256 password authentication passes through; a wrong password shows the server's error")
    func scramPassword() async throws {
        let (chain, proxy, port) = try await start(user: "alice")
        let good = try await psql(port: port, user: "alice", sslmode: "disable", "select current_user", password: "alice-pw")
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output == "alice\n")
        let bad = try await psql(port: port, user: "alice", sslmode: "disable", "select 1", password: "wrong")
        #expect(bad.status != 0)
        #expect(bad.output.contains("password authentication failed for user \"alice\""), "\(bad.output)")
        await proxy.stop()
        await chain.stop()
    }
}
