import Foundation
import Testing

/// `dbproxy proxy --http-address`: health endpoints and Prometheus metrics of a running proxy.
@Suite("CLI: health and metrics")
struct CLIOperationsTests {
    @Test("/metrics counts a psql session's bytes for its database; /readiness is 503 while draining")
    func metricsAndReadiness() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let proxy = try CLIWorld.start(["proxy"] + world.identity(.postgresTrust) + [
            "--http-address", "127.0.0.1:0", "--max-sigterm-delay", "20s",
        ])
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))
        let line = try await proxy.line(containing: "Health and metrics on http://")
        let base = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init))
        #expect(try await CLIHTTP.get(base + "/startup").status == 200)
        #expect(try await CLIHTTP.get(base + "/liveness").status == 200)
        #expect(try await CLIHTTP.get(base + "/readiness").status == 200)
        let query = try await CLIProcess.run(["psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select repeat('x', 100000)"])
        #expect(query.status == 0, "\(query.output)")
        var metrics = ""
        for _ in 0..<100 {
            metrics = try await CLIHTTP.get(base + "/metrics").body
            if metrics.contains("dbproxy_local_connections_accepted_total{database=\"pg1\"} 1") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(metrics.contains("dbproxy_local_connections_accepted_total{database=\"pg1\"} 1"), "\(metrics)")
        let fromRouter = metrics.split(separator: "\n").first { $0.hasPrefix("dbproxy_local_bytes_from_router_total{database=\"pg1\"}") }
        let bytes = fromRouter.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
        #expect(bytes > 100_000, "\(fromRouter ?? "no bytes_from_router series")")
        // A session stays open while the proxy drains.
        let held = try CLIIdlePostgresClient(port: port)
        proxy.send(SIGTERM)
        _ = try await proxy.line(containing: "Draining")
        let readiness = try await CLIHTTP.get(base + "/readiness")
        #expect(readiness.status == 503)
        #expect(readiness.body.contains("pg1: not ready: draining"), "\(readiness.body)")
        withExtendedLifetime(held) {}
    }
}
