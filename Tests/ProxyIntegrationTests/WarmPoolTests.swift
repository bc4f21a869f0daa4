import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LocalDBProxy
import Logging
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// The local proxy's warm pool against the real PostgreSQL and MariaDB of scripts/dev-db:
/// clients get pre-handshaken router connections (the router pings them every 50 ms while they
/// wait), a certificate change drains the pool, old connections are replaced, and a router
/// restart hands out no dead connection.
@Suite("Warm pool", .serialized)
struct WarmPoolTests {
    private func postgresRoute() -> DatabaseRoute {
        DatabaseRoute(name: "pg", databaseProtocol: .postgres, address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort))
    }

    private func startChain() async throws -> ProxyChain {
        try await DevDatabase.requirePostgres()
        return try await ProxyChain.start(databases: [postgresRoute()])
    }

    private func psql(port: Int, _ sql: String = "select 1") async throws -> Command.Result {
        try await Command.run(["psql", "-X", "-At", "host=127.0.0.1 port=\(port) user=trustuser dbname=appdb connect_timeout=10", "-c", sql])
    }

    /// Waits until the pool's status satisfies `condition`.
    private func waitFor(
        _ proxy: LocalProxy, timeout: Duration = .seconds(15), _ what: String, _ condition: (WarmPoolStatus) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = proxy.warmPoolStatus, condition(status) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestTimeout(what: "warm pool: \(what) within \(timeout); status \(String(describing: proxy.warmPoolStatus))")
    }

    private func opened(_ events: EventRecorder<LocalProxyEvent>, count: Int) async throws -> [LocalProxyEvent.ConnectionOpened] {
        try await events.matches(atLeast: count) { event -> LocalProxyEvent.ConnectionOpened? in
            if case .connectionOpened(let opened) = event { return opened }
            return nil
        }
    }

    private func routedSerials(_ chain: ProxyChain, count: Int) async throws -> [String?] {
        try await chain.routerEvents.matches(atLeast: count) { event -> String?? in
            if case .routed(let routed) = event { return .some(routed.certificateSerial) }
            return nil
        }
    }

    @Test("with the pool full, every client gets a pooled connection, and the pool refills behind it")
    func pooledConnectionsAreUsed() async throws {
        let chain = try await startChain()
        let material = try chain.pki.user("trustuser", service: "pg", protocolName: "postgres")
        let (proxy, port, events) = try await chain.localProxy(material, configure: { $0.warmPool = 4 })
        for round in 1...4 {
            try await waitFor(proxy, "4 ready") { $0.ready == 4 }
            // The router pings the waiting connections every 50 ms: the framing drops them.
            try await Task.sleep(for: .milliseconds(120))
            let result = try await psql(port: port, "select \(round)")
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output == "\(round)\n")
        }
        let all = try await opened(events, count: 4)
        #expect(all.map(\.pooled) == [true, true, true, true])
        #expect(all.allSatisfy { $0.negotiatedProtocol == "teleport-postgres-ping" })
        let status = try #require(proxy.warmPoolStatus)
        #expect(status.counters.taken == 4)
        #expect(status.counters.missed == 0)
        try await waitFor(proxy, "refilled") { $0.ready == 4 && $0.counters.dialed >= 8 }
        await proxy.stop()
        #expect(proxy.warmPoolStatus?.ready == 0)
        await chain.stop()
    }

    @Test("without a pool no connection is pooled, and the proxy reports no pool")
    func noPoolByDefault() async throws {
        let chain = try await startChain()
        let material = try chain.pki.user("trustuser", service: "pg", protocolName: "postgres")
        let (proxy, port, events) = try await chain.localProxy(material)
        #expect(proxy.warmPoolStatus == nil)
        #expect(try await psql(port: port).output == "1\n")
        #expect(try await opened(events, count: 1).map(\.pooled) == [false])
        await proxy.stop()
        await chain.stop()
    }

    @Test("a certificate change drains the pool: the next client is routed with the new certificate")
    func certificateChangeDrains() async throws {
        let chain = try await startChain()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-pool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (cert, key, ca) = (directory + "/cert.pem", directory + "/key.pem", directory + "/ca.pem")
        func write() throws -> String {
            var request = UserCertificateRequest(
                user: "trustuser", route: RouteToDatabase(serviceName: "pg", protocolName: "postgres", username: "trustuser", database: "appdb"),
                notBefore: Date() - 60, validFor: 3600)
            request.roles = ["dev"]
            let issued = try chain.pki.userCA.issueUser(request)
            try Self.replace(key, with: issued.privateKeyPEM, mode: 0o600)
            try Self.replace(cert, with: issued.certificatePEM, mode: 0o644)
            try Self.replace(ca, with: chain.pki.hostCA.ca.certificatePEM, mode: 0o644)
            return try CertificateIdentity(pemEncoded: issued.certificatePEM).serialNumber
        }
        let first = try write()
        let material = try TLSMaterial.load(certificateFile: cert, keyFile: key, caFile: ca)
        let (proxy, port, events) = try await chain.localProxy(material, configure: {
            $0.warmPool = 2
            $0.identitySource = .files(certificate: cert, key: key, ca: ca)
            $0.certificateCheckInterval = .milliseconds(50)
        })
        try await waitFor(proxy, "2 ready") { $0.ready == 2 }
        #expect(try await psql(port: port).output == "1\n")
        try await waitFor(proxy, "2 ready again") { $0.ready == 2 }
        let second = try write()
        _ = try await events.first { event -> Bool? in
            if case .certificateReloaded(_, let serial) = event, serial == second { return true }
            return nil
        }
        try await waitFor(proxy, "the old connections drained and new ones ready") { $0.counters.drained >= 2 && $0.ready == 2 }
        #expect(try await psql(port: port).output == "1\n")
        let serials = try await routedSerials(chain, count: 2)
        #expect(serials == [first, second], "\(serials)")
        #expect(try await opened(events, count: 2).map(\.pooled) == [true, true])
        await proxy.stop()
        await chain.stop()
    }

    @Test("pooled connections are closed at their maximum age and replaced by new ones")
    func expiry() async throws {
        let chain = try await startChain()
        let material = try chain.pki.user("trustuser", service: "pg", protocolName: "postgres")
        let (proxy, port, events) = try await chain.localProxy(material, configure: {
            $0.warmPool = 2
            $0.warmPoolMaxAge = .milliseconds(300)
        })
        try await waitFor(proxy, "several generations aged out") { $0.counters.expired >= 4 && $0.ready == 2 }
        let status = try #require(proxy.warmPoolStatus)
        #expect(status.counters.lost == 0)
        #expect(status.counters.dialFailures == 0)
        #expect(try await psql(port: port).output == "1\n")
        #expect(try await opened(events, count: 1).first?.pooled == true)
        // The router saw the unused ones go without a rejection (they left before the login deadline).
        let rejected = await chain.routerEvents.events.filter { if case .rejected = $0 { true } else { false } }
        #expect(rejected.isEmpty, "\(rejected)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("the router restarts: the dead pooled connections are dropped, clients still connect, the pool refills")
    func routerRestart() async throws {
        try await DevDatabase.requirePostgres()
        let pki = try TestPKI()
        let first = try await Self.router(pki: pki, port: 0)
        let port = try #require(try await first.start().port)
        var configuration = LocalProxyConfiguration(
            routerHost: "127.0.0.1", routerPort: port, tls: try pki.user("trustuser", service: "pg", protocolName: "postgres"),
            serverName: "localhost")
        configuration.warmPool = 2
        let proxy = try LocalProxy(configuration: configuration, logger: Self.logger("test.local"))
        let events = EventRecorder<LocalProxyEvent>()
        events.record(proxy.events)
        let localPort = try #require(try await proxy.start().port)
        try await waitFor(proxy, "2 ready") { $0.ready == 2 }
        await first.stop(deadline: .now())
        try await waitFor(proxy, "the closed connections dropped") { $0.counters.lost >= 2 && $0.ready == 0 }
        let second = try await Self.router(pki: pki, port: port)
        _ = try await second.start()
        // At once, whether or not the pool has refilled yet.
        let result = try await psql(port: localPort)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "1\n")
        try await waitFor(proxy, "refilled from the new router") { $0.ready == 2 }
        #expect(try await psql(port: localPort).output == "1\n")
        let all = try await opened(events, count: 2)
        #expect(all.last?.pooled == true)
        await proxy.stop()
        await second.stop(deadline: .now())
    }

    @Test("no router at the address: the pool backs off instead of redialling in a loop, and clients are told the router is unreachable")
    func routerDown() async throws {
        let pki = try TestPKI()
        // A port that was just free: nothing listens there.
        let probe = try await Self.router(pki: pki, port: 0)
        let port = try #require(try await probe.start().port)
        await probe.stop(deadline: .now())
        var configuration = LocalProxyConfiguration(
            routerHost: "127.0.0.1", routerPort: port, tls: try pki.user("trustuser", service: "pg", protocolName: "postgres"),
            serverName: "localhost")
        configuration.warmPool = 4
        let proxy = try LocalProxy(configuration: configuration, logger: Self.logger("test.local"))
        let events = EventRecorder<LocalProxyEvent>()
        events.record(proxy.events)
        let localPort = try #require(try await proxy.start().port)
        try await Task.sleep(for: .seconds(2))
        let status = try #require(proxy.warmPoolStatus)
        // Backoff from 100 ms doubling to 5 s allows a handful of rounds in 2 s; a loop would make thousands.
        #expect(status.counters.dialFailures >= 1)
        #expect(status.counters.dialFailures < 40, "\(status)")
        #expect(status.ready == 0)
        let result = try await psql(port: localPort)
        #expect(result.status != 0)
        #expect(result.output.contains("cannot reach the router"), "\(result.output)")
        await proxy.stop()
    }

    @Test("MySQL: the greeting the router sends at once waits in the pooled connection for the client")
    func mysqlGreetingWaits() async throws {
        try await DevDatabase.requireMariaDB()
        let chain = try await ProxyChain.start(databases: [
            DatabaseRoute(name: "my-plain", databaseProtocol: .mysql, address: HostAndPort(host: DevDatabase.mariaDBHost, port: DevDatabase.mariaDBPort)),
        ])
        let material = try chain.pki.user("alice", service: "my-plain", protocolName: "mysql")
        let (proxy, port, events) = try await chain.localProxy(material, configure: { $0.warmPool = 2 })
        try await waitFor(proxy, "2 ready") { $0.ready == 2 }
        try await Task.sleep(for: .milliseconds(300))
        let result = try await Command.run([
            "mariadb", "--no-defaults", "--host=127.0.0.1", "--port=\(port)", "--protocol=TCP", "--user=alice", "--password=alice-pw",
            "--database=appdb", "--connect-timeout=10", "--batch", "--skip-column-names", "-e", "select current_user()",
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "alice@%\n", "\(result.output)")
        #expect(try await opened(events, count: 1).first?.pooled == true)
        await proxy.stop()
        await chain.stop()
    }

    private static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }

    private static func router(pki: TestPKI, port: Int) async throws -> Router {
        let configuration = RouterConfiguration(
            listenAddress: HostAndPort(host: "127.0.0.1", port: port),
            certificateChain: try pki.serverChain, privateKey: try pki.serverKey, clientCA: try pki.userCACertificates,
            databases: [DatabaseRoute(name: "pg", databaseProtocol: .postgres, address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort))],
            pingInterval: .milliseconds(50), timeouts: ProxyTimeouts(handshake: .seconds(15), connect: .seconds(5), login: .seconds(60)))
        return Router(configuration: configuration, logger: logger("test.router"))
    }

    private static func replace(_ path: String, with contents: String, mode: Int) throws {
        let temporary = path + ".new"
        try contents.write(toFile: temporary, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: temporary)
        guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}
