import Foundation
import Testing

/// SIGTERM and SIGINT: stop accepting, let open connections finish for --max-sigterm-delay,
/// stop at once on a second signal.
@Suite("CLI: dbproxy proxy signals")
struct CLILifecycleTests {
    @Test("SIGTERM with a psql query running and --max-sigterm-delay 10s: the query completes, dbproxy exits 0")
    func drainOpenSession() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let proxy = try CLIWorld.start(["proxy"] + world.identity(.postgresTrust) + ["--max-sigterm-delay", "10s"])
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))
        let marker = "drain-\(UUID().uuidString)"
        let session = try CLIProcess.start([
            "psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select '\(marker)' from pg_sleep(3)",
        ])
        defer { session.terminate() }
        try await waitUntilRunning(marker)
        proxy.send(SIGTERM)
        try await proxy.line(containing: "Draining: 1 connection open; waiting up to 10s (send the signal again to stop now)")
        #expect(try await session.exitStatus() == 0, "\(session.transcript)")
        #expect(session.output() == "\(marker)\n", "\(session.transcript)")
        #expect(try await proxy.exitStatus() == 0, "\(proxy.transcript)")
        #expect(proxy.output().contains("Stopped: all connections finished."), "\(proxy.transcript)")
    }

    @Test("a second signal during the drain stops at once with a non-zero status")
    func secondSignal() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let proxy = try CLIWorld.start(["proxy"] + world.identity(.postgresTrust) + ["--max-sigterm-delay", "10m"])
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))
        let held = try CLIIdlePostgresClient(port: port)
        proxy.send(SIGTERM)
        try await proxy.line(containing: "Draining: 1 connection open; waiting up to 10m")
        proxy.send(SIGINT)
        #expect(try await proxy.exitStatus(timeout: .seconds(60)) == 128 + SIGINT, "\(proxy.transcript)")
        #expect(proxy.output().contains("Stopping now on a second SIGINT"), "\(proxy.transcript)")
        #expect(held.isClosedByPeer(within: 30))
    }

    @Test("without --max-sigterm-delay, SIGTERM closes open connections and exits 0")
    func noDelay() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let proxy = try CLIWorld.start(["proxy"] + world.identity(.postgresTrust))
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))
        let held = try CLIIdlePostgresClient(port: port)
        proxy.send(SIGTERM)
        #expect(try await proxy.exitStatus() == 0, "\(proxy.transcript)")
        #expect(proxy.output().contains("Stopping on SIGTERM: 1 connection open; closing now."), "\(proxy.transcript)")
        #expect(held.isClosedByPeer(within: 30))
    }

    /// Waits until PostgreSQL runs the query that carries `marker` (asked directly, not through the proxy).
    private func waitUntilRunning(_ marker: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let result = try await CLIProcess.run([
                "psql", "host=\(DevDatabase.postgresHost) port=\(DevDatabase.postgresPort) user=trustuser dbname=appdb", "-X", "-At", "-c",
                "select count(*) from pg_stat_activity where state = 'active' and query like '%\(marker)%' and pid <> pg_backend_pid()",
            ])
            if result.stdout == "1\n" { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestTimeout(what: "the query \(marker) never ran")
    }
}
