import Foundation
import LocalDBProxy
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// The router dials PostgreSQL as soon as the client's TLS handshake is done, and sends the
/// startup packet only once it has passed the certificate check. The real PostgreSQL of
/// scripts/dev-db sits behind a `DatabaseTap`, which shows what each database connection
/// carried from the router.
@Suite("PostgreSQL dialled at the handshake", .serialized)
struct PostgresEarlyDialTests {
    private func startChain(dropSilentAfter: TimeAmount? = nil) async throws -> (ProxyChain, DatabaseTap) {
        try await DevDatabase.requirePostgres()
        let tap = try await DatabaseTap.start(
            to: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort), dropSilentAfter: dropSilentAfter)
        let route = DatabaseRoute(name: "pg", databaseProtocol: .postgres, address: HostAndPort(host: "127.0.0.1", port: tap.port))
        return (try await ProxyChain.start(databases: [route]), tap)
    }

    private func psql(port: Int, user: String = "trustuser") async throws -> Command.Result {
        try await Command.run(["psql", "-X", "-At", "host=127.0.0.1 port=\(port) user=\(user) dbname=appdb connect_timeout=10", "-c", "select current_user"])
    }

    /// Polls `condition` for up to five seconds.
    private func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestTimeout(what: what) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// A chain with a local proxy for trustuser whose pool holds four connections, ready.
    private func pooledChain(dropSilentAfter: TimeAmount? = nil) async throws -> (ProxyChain, DatabaseTap, LocalProxy, Int) {
        let (chain, tap) = try await startChain(dropSilentAfter: dropSilentAfter)
        let material = try chain.pki.user("trustuser", service: "pg", protocolName: "postgres")
        // One pooled connection or more on each event loop, so the client's loop has one.
        let (proxy, port, _) = try await chain.localProxy(material, configure: { $0.warmPool = 4 })
        try await waitForPool(proxy, 4)
        return (chain, tap, proxy, port)
    }

    /// psql through `port` logs in as trustuser and runs a query.
    private func expectSession(port: Int) async throws {
        let result = try await psql(port: port)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "trustuser\n")
    }

    private func waitForPool(_ proxy: LocalProxy, _ count: Int) async throws {
        try await eventually("\(count) pooled router connections") { (proxy.warmPoolStatus?.ready ?? 0) == count }
    }

    @Test("pooled router connections hold open database connections before any client comes, and psql uses one")
    func pooledConnectionIsDialledAhead() async throws {
        let (chain, tap, proxy, port) = try await pooledChain()
        try await eventually("the router's connections to the database") { tap.connections.count == 4 }
        #expect(tap.connections.allSatisfy { $0.bytesFromClient == 0 }, "nothing goes to the database before a startup packet")

        try await expectSession(port: port)
        let used = tap.connections.prefix(4).filter { $0.bytesFromClient > 0 }
        #expect(used.count == 1, "the session ran over a connection dialled ahead: \(tap.connections)")
        await proxy.stop()
        await chain.stop()
        await tap.stop()
    }

    @Test("a connection the database closed while it waited for the startup packet is replaced by a new dial")
    func droppedConnectionIsRedialled() async throws {
        let (chain, tap, proxy, port) = try await pooledChain(dropSilentAfter: .milliseconds(200))
        try await eventually("the database dropping the silent connections") { tap.connections.count == 4 && tap.connections.allSatisfy(\.closedByTap) }

        try await expectSession(port: port)
        #expect(tap.connections.prefix(4).allSatisfy { $0.bytesFromClient == 0 })
        let used = tap.connections.dropFirst(4).filter { $0.bytesFromClient > 0 }
        #expect(used.count == 1, "one new connection carried the session: \(tap.connections)")
        await proxy.stop()
        await chain.stop()
        await tap.stop()
    }

    @Test("the database was down while the pool filled: psql reaches it once it is back")
    func failedDialIsRetriedWhenOld() async throws {
        try await DevDatabase.requirePostgres()
        let target = HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort)
        let gone = try await DatabaseTap.start(to: target)
        let port = gone.port
        await gone.stop()
        let route = DatabaseRoute(name: "pg", databaseProtocol: .postgres, address: HostAndPort(host: "127.0.0.1", port: port))
        let chain = try await ProxyChain.start(databases: [route])
        let material = try chain.pki.user("trustuser", service: "pg", protocolName: "postgres")
        let (proxy, localPort, _) = try await chain.localProxy(material, configure: { $0.warmPool = 4 })
        try await waitForPool(proxy, 4)
        try await Task.sleep(for: .milliseconds(200))  // the router's dials ahead have been refused

        let tap = try await DatabaseTap.start(to: target, port: port)
        try await expectSession(port: localPort)
        #expect(tap.connections.filter { $0.bytesFromClient > 0 }.count == 1, "\(tap.connections)")
        await proxy.stop()
        await chain.stop()
        await tap.stop()
    }

    @Test("a startup packet the certificate does not allow is refused, and no byte of it reaches the database")
    func refusedStartupSendsNothing() async throws {
        let (chain, tap) = try await startChain()
        let material = try chain.pki.user("trustuser", service: "pg", protocolName: "postgres")
        let (proxy, port, _) = try await chain.localProxy(material)

        let result = try await psql(port: port, user: "alice")
        #expect(result.status != 0)
        #expect(result.output.contains("access denied"), "\(result.output)")
        try await eventually("the router's dial at the handshake") { !tap.connections.isEmpty }
        try await Task.sleep(for: .milliseconds(200))
        #expect(tap.connections.allSatisfy { $0.bytesFromClient == 0 }, "\(tap.connections)")
        await proxy.stop()
        await chain.stop()
        await tap.stop()
    }
}
