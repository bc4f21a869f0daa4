import Foundation
import Testing

/// `dbproxy proxy` flags that change what it speaks and says: --protocol, --json-logs,
/// --max-connections, --warm-pool, --quiet, and shell completion.
@Suite("CLI: dbproxy proxy options")
struct CLIOptionsTests {
    @Test("--protocol overrides the certificate's with a warning; --json-logs writes one JSON object per line")
    func protocolOverrideAndJSONLogs() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let proxy = try CLIWorld.start(["proxy"] + world.identity(.postgresTrust) + ["--protocol", "mysql", "--json-logs"])
        defer { proxy.terminate() }
        let started = try await proxy.line(containing: "Started authenticated tunnel")
        #expect(started.contains("for the MySQL database \"pg1\""), "\(started)")
        #expect(started.contains("ALPN teleport-mysql-ping, teleport-mysql;"), "\(started)")
        let warning = try await proxy.line(containing: "overrides the certificate's protocol postgres", in: .stderr)
        let record = try #require(try JSONSerialization.jsonObject(with: Data(warning.utf8)) as? [String: Any])
        #expect(record["level"] as? String == "warning")
        #expect(record["label"] as? String == "dbproxy")
        #expect((record["metadata"] as? [String: Any])?["database"] as? String == "pg1")
        #expect(record["time"] is String)
        for line in proxy.output(.stderr).split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(Set(object?.keys.map { $0 } ?? []) == ["time", "level", "label", "message", "metadata"], "\(line)")
        }
    }

    @Test("--max-connections 1 refuses a second client in its protocol; --quiet logs nothing below errors")
    func maxConnectionsQuiet() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let proxy = try CLIWorld.start(["proxy"] + world.identity(.postgresTrust) + ["--max-connections", "1", "--quiet"])
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))
        let held = try CLIIdlePostgresClient(port: port)
        let refused = try await CLIProcess.run(["psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select 1"])
        #expect(refused.status != 0)
        #expect(refused.output.contains("too many connections"), "\(refused.output)")
        withExtendedLifetime(held) {}
        #expect(proxy.output(.stderr).isEmpty, "\(proxy.transcript)")
    }

    @Test("--warm-pool 2: clients use pre-handshaken router connections (debug log pooled=true); bad values are refused")
    func warmPool() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let proxy = try CLIWorld.start(["proxy"] + world.identity(.postgresTrust) + ["--warm-pool", "2", "--warm-pool-max-age", "30s", "--verbose"])
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))
        // Long enough for the pool's two handshakes on a busy machine.
        try await Task.sleep(for: .seconds(2))
        let result = try await CLIProcess.run(["psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select 1"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "1\n", "\(result.output)")
        let opened = try await proxy.line(containing: "tunnel open", in: .stderr)
        #expect(opened.contains("pooled=true"), "\(opened)")
        for bad in [["--warm-pool", "-1"], ["--warm-pool", "2", "--warm-pool-max-age", "soon"]] {
            let refused = try await CLIWorld.run(["proxy"] + world.identity(.postgresTrust) + bad)
            #expect(refused.status != 0)
            #expect(refused.output.contains("--warm-pool"), "\(refused.output)")
        }
    }

    @Test("warm_pool in the --config file turns the pool on; a bad value names the file, line and key")
    func warmPoolConfig() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let config = world.directory + "/pool.yaml"
        try """
        router: \(world.routerAddress)
        ca: \(world.certificates.hostCA)
        warm_pool: 2
        warm_pool_max_age: 30s
        databases:
          - { name: pg1, cert: \(world.certificates.prefix(.postgresTrust)).pem, key: \(world.certificates.prefix(.postgresTrust))-key.pem }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let proxy = try CLIWorld.start(["proxy", "--config", config, "--verbose"])
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))
        try await Task.sleep(for: .seconds(2))
        let result = try await CLIProcess.run(["psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select 1"])
        #expect(result.output == "1\n", "\(result.output)")
        let opened = try await proxy.line(containing: "tunnel open", in: .stderr)
        #expect(opened.contains("pooled=true"), "\(opened)")

        let bad = world.directory + "/bad.yaml"
        try "router: localhost:3080\nca: ca.pem\nwarm_pool: lots\ndatabases:\n  - { name: pg1, cert: a.pem }\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await CLIWorld.run(["proxy", "--config", bad])
        #expect(refused.status != 0)
        #expect(refused.output.contains("bad.yaml:3: warm_pool: expected a number of connections"), "\(refused.output)")
    }

    @Test("shell completion scripts come from --generate-completion-script")
    func completionScript() async throws {
        for shell in ["bash", "zsh", "fish"] {
            let result = try await CLIWorld.run(["--generate-completion-script", shell])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("connect") && result.output.contains("max-sigterm-delay"), "\(shell)")
        }
    }
}
