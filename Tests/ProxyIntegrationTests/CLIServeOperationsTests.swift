import Foundation
import Testing

/// `dbproxy serve --check-config` and `--http-address`: what an operator's deployment checks.
@Suite("CLI: router operations")
struct CLIServeOperationsTests {
    @Test("--check-config: 0 and a summary for a usable file; the file, line and key of a mistake otherwise")
    func checkConfig() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let good = try await CLIWorld.run(["serve", "--config", world.directory + "/router.yaml", "--check-config"])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.stdout.contains("router.yaml: OK; listen 127.0.0.1:0; databases: pg1 (postgres"), "\(good.output)")
        let broken = world.directory + "/broken.yaml"
        try String(contentsOfFile: world.directory + "/router.yaml", encoding: .utf8)
            .replacingOccurrences(of: "client_ca_file:", with: "client_ca_fil:")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        let bad = try await CLIWorld.run(["serve", "--config", broken, "--check-config"])
        #expect(bad.status != 0)
        #expect(bad.output.contains("broken.yaml:"), "\(bad.output)")
        #expect(bad.output.contains("client_ca_fil"), "\(bad.output)")
        // Clusters and further keypairs are named in the summary.
        let extended = world.directory + "/extended.yaml"
        var lines = try String(contentsOfFile: world.directory + "/router.yaml", encoding: .utf8).components(separatedBy: "\n")
        let keypair = try #require(lines.firstIndex { $0.contains("cert_file:") })
        lines.insert(lines[keypair], at: keypair + 1)
        lines.append("clusters:\n  - { name: root.example, auth_addr: 127.0.0.1:3025 }")
        try lines.joined(separator: "\n").write(toFile: extended, atomically: true, encoding: .utf8)
        let more = try await CLIWorld.run(["serve", "--config", extended, "--check-config"])
        #expect(more.status == 0, "\(more.output)")
        #expect(more.stdout.contains("; clusters: root.example (auth 127.0.0.1:3025); https keypairs: 2"), "\(more.output)")
    }

    @Test("--http-address: /healthz and /readyz answer 200, /metrics counts a routed psql session; /readyz is 503 while draining")
    func operations() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let router = try CLIWorld.start([
            "serve", "--config", world.directory + "/router.yaml", "--http-address", "127.0.0.1:0", "--max-sigterm-delay", "5s",
        ])
        defer { router.terminate() }
        let listening = try await router.line(containing: "Router listening on ")
        let routerPort = try #require(listening.split(separator: ";").first?.split(separator: ":").last.flatMap { Int($0) })
        let line = try await router.line(containing: "Health and metrics on http://")
        let base = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init))
        #expect(try await CLIHTTP.get(base + "/healthz").status == 200)
        #expect(try await CLIHTTP.get(base + "/readyz").status == 200)

        let identity = world.identity(.postgresTrust).map { $0 == world.routerAddress ? "127.0.0.1:\(routerPort)" : $0 }
        let proxy = try CLIWorld.start(["proxy"] + identity)
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))
        let query = try await CLIProcess.run(["psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select 1"])
        #expect(query.stdout == "1\n", "\(query.output)")
        let series = "dbproxy_router_connections_routed_total{service=\"pg1\",protocol=\"teleport-postgres\"} 1"
        var metrics = ""
        for _ in 0..<100 {
            metrics = try await CLIHTTP.get(base + "/metrics").body
            if metrics.contains(series) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(metrics.contains(series), "\(metrics)")
        #expect(metrics.contains("# TYPE dbproxy_router_audit_dropped_records gauge"), "\(metrics)")

        let held = try CLIIdlePostgresClient(port: port)
        // The local proxy dials the router as soon as the client connects: wait until the router counts it.
        for _ in 0..<100 {
            let open = try await CLIHTTP.get(base + "/metrics").body.split(separator: "\n")
                .first { $0.hasPrefix("dbproxy_router_open_connections ") }
                .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
            if open >= 1 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        router.send(SIGTERM)
        _ = try await router.line(containing: "Stopping on SIGTERM")
        let readiness = try await CLIHTTP.get(base + "/readyz")
        #expect(readiness.status == 503, "\(readiness.body)")
        withExtendedLifetime(held) {}
    }

    @Test("connection_limits in the YAML are announced; after a psql session /metrics has its bytes each way and a backend dial time")
    func bytesAndDialMetrics() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let config = world.directory + "/limited.yaml"
        try String(contentsOfFile: world.directory + "/router.yaml", encoding: .utf8)
            .replacingOccurrences(
                of: "  client_ca_file:",
                with: "  connection_limits: {max_connections: 50, rates: [{period: 1s, average: 20, burst: 40}]}\n  client_ca_file:")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let router = try CLIWorld.start(["serve", "--config", config, "--http-address", "127.0.0.1:0"])
        defer { router.terminate() }
        let listening = try await router.line(containing: "Router listening on ")
        #expect(listening.contains("connection limits per client address: at most 50 open; 20 per 1s, burst 40"), "\(listening)")
        let routerPort = try #require(listening.split(separator: ";").first?.split(separator: ":").last.flatMap { Int($0) })
        let line = try await router.line(containing: "Health and metrics on http://")
        let base = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init))

        let identity = world.identity(.postgresTrust).map { $0 == world.routerAddress ? "127.0.0.1:\(routerPort)" : $0 }
        let proxy = try CLIWorld.start(["proxy"] + identity)
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))
        let query = try await CLIProcess.run([
            "psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select repeat('x', 100000)",
        ])
        #expect(query.stdout.count == 100_001, "\(query.stderr)")
        let mysqlIdentity = world.identity(.mysqlAlice).map { $0 == world.routerAddress ? "127.0.0.1:\(routerPort)" : $0 }
        let mysqlProxy = try CLIWorld.start(["proxy"] + mysqlIdentity)
        defer { mysqlProxy.terminate() }
        let mysqlPort = try #require(CLIWorld.port(inStartupLine: try await mysqlProxy.line(containing: "Started authenticated tunnel")))
        let mysql = try await CLIProcess.run(
            ["mariadb", "--no-defaults", "--host=127.0.0.1", "--port=\(mysqlPort)", "--protocol=TCP", "--user=alice", "-N", "-e", "select 2"],
            environment: ["MYSQL_PWD": "alice-pw"])
        #expect(mysql.stdout == "2\n", "\(mysql.output)")

        // Bytes are added when the connection closes (psql left; the local proxy closes its tunnel).
        func value(_ metrics: String, _ series: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
        }
        let labels = "{service=\"pg1\",protocol=\"teleport-postgres\"}"
        var metrics = ""
        for _ in 0..<200 {
            metrics = try await CLIHTTP.get(base + "/metrics").body
            if value(metrics, "dbproxy_router_bytes_to_client_total" + labels) != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let toClient = try #require(value(metrics, "dbproxy_router_bytes_to_client_total" + labels), "\(metrics)")
        let fromClient = try #require(value(metrics, "dbproxy_router_bytes_from_client_total" + labels), "\(metrics)")
        print("one psql session of select repeat('x', 100000): \(Int(fromClient)) bytes from the client, \(Int(toClient)) to it")
        #expect(toClient > 100_000, "the 100000-character row came back through the splice")
        #expect(fromClient > 0)
        #expect(value(metrics, "dbproxy_router_backend_dial_duration_seconds_count{protocol=\"teleport-postgres\"}") == 1, "\(metrics)")
        let dialSum = try #require(value(metrics, "dbproxy_router_backend_dial_duration_seconds_sum{protocol=\"teleport-postgres\"}"))
        print("backend dial: \(dialSum * 1000) ms")
        #expect(dialSum > 0)
        #expect(metrics.contains("# TYPE dbproxy_router_backend_dial_duration_seconds histogram"), "\(metrics)")
        let mysqlLabels = "{service=\"my1\",protocol=\"teleport-mysql\"}"
        for _ in 0..<200 where value(metrics, "dbproxy_router_bytes_to_client_total" + mysqlLabels) == nil {
            try await Task.sleep(for: .milliseconds(50))
            metrics = try await CLIHTTP.get(base + "/metrics").body
        }
        let mysqlToClient = try #require(value(metrics, "dbproxy_router_bytes_to_client_total" + mysqlLabels), "\(metrics)")
        #expect(mysqlToClient > 0, "the result set of select 2 came back through the splice")
        #expect(value(metrics, "dbproxy_router_backend_dial_duration_seconds_count{protocol=\"teleport-mysql\"}") == 1, "\(metrics)")
    }
}
