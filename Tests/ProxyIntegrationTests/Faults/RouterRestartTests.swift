import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The router dies and comes back on the same address while `dbproxy proxy` keeps running: while
/// it is down clients are told so in their own protocol, naming the router's address; once it is
/// back new connections go through without restarting the local proxy.
@Suite("Faults: router restarted under a running local proxy")
struct RouterRestartTests {
    @Test("dbproxy serve killed (SIGKILL) and started again: errors name the router while it is down, new sessions work after")
    func routerRestart() async throws {
        try await DevDatabase.requirePostgres()
        try await DevDatabase.requireMariaDB()
        let directory = try FaultWorld.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let router = try await FaultWorld.startRouter(
            directory: directory, databases: [FaultWorld.sharedPostgres, FaultWorld.sharedMariaDB], port: try FaultWorld.freePort())
        defer { router.process.terminate() }
        let proxy = try await FaultWorld.startLocalProxy(router: router.address, users: [.pg1, .my1])
        defer { proxy.process.terminate() }
        let pg1 = try proxy.port(.pg1), my1 = try proxy.port(.my1)

        let before = try await FaultWorld.psql(port: pg1, "select 'before'")
        #expect(before.status == 0 && before.stdout == "before\n", "\(before.output)")
        let statement = "select 'router-restart-\(UUID().uuidString.prefix(8))', pg_sleep(120)"
        let sleeper = try CLIProcess.start(["psql", "-X", "-At", "-h", "127.0.0.1", "-p", "\(pg1)", "-U", "trustuser", "-d", "appdb",
                                            "-c", statement], environment: ["PGSSLMODE": "disable"])
        defer { sleeper.terminate() }
        // The session is open once the shared server runs the statement.
        try await waitForStatement(port: pg1, statement)

        router.process.send(SIGKILL)
        _ = try await router.process.exitStatus()

        // The open session ends with an error, not a hang.
        #expect(try await sleeper.exitStatus() == 2, "\(sleeper.transcript)")
        #expect(sleeper.output(.stderr).contains("server closed the connection unexpectedly"), "\(sleeper.transcript)")

        let postgresDown = try await FaultWorld.psql(port: pg1, "select 1")
        #expect(postgresDown.status == 2, "\(postgresDown.output)")
        #expect(postgresDown.stderr.contains("FATAL:  dbproxy: cannot reach the router at \(router.address): "), "\(postgresDown.output)")
        #expect(postgresDown.stderr.contains("HINT:  Check that the router (dbproxy serve) is running and listening on \(router.address)"),
                "\(postgresDown.output)")
        let mysqlDown = try await FaultWorld.mariadb(port: my1, "select 1")
        #expect(mysqlDown.status == 1, "\(mysqlDown.output)")
        #expect(mysqlDown.stderr.contains("cannot reach the router at \(router.address)"), "\(mysqlDown.output)")

        let restarted = try await FaultWorld.startRouter(config: router.config)
        defer { restarted.process.terminate() }
        #expect(restarted.port == router.port)
        let postgresAfter = try await FaultWorld.psql(port: pg1, "select 'after'")
        #expect(postgresAfter.status == 0 && postgresAfter.stdout == "after\n", "\(postgresAfter.output)")
        let mysqlAfter = try await FaultWorld.mariadb(port: my1, "select 'after'")
        #expect(mysqlAfter.status == 0 && mysqlAfter.stdout == "after\n", "\(mysqlAfter.output)")
        #expect(!proxy.process.exited(), "\(proxy.process.transcript)")
    }

    /// Waits until the shared PostgreSQL runs `statement` (asked through the local proxy).
    private func waitForStatement(port: Int, _ statement: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let seen = try await FaultWorld.psql(port: port, "select count(*) from pg_stat_activity where state = 'active' and query = '\(statement.replacingOccurrences(of: "'", with: "''"))'")
            if seen.stdout == "1\n" { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestTimeout(what: "\(statement) did not start within 30 s")
    }
}
