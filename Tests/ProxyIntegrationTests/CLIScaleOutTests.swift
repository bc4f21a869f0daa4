import Foundation
import NIOCore
import NIOPosix
import Testing

/// Two `dbproxy serve` replicas behind HAProxy (Debian) in TCP mode with `send-proxy-v2`, as
/// README's "Scale out" describes: clients through either replica work, each replica logs the
/// original client address, and stopping one replica loses no session on the other.
@Suite("CLI: two routers behind HAProxy")
struct CLIScaleOutTests {
    private func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close().get()
        return port
    }

    /// A replica: the world's router file plus PROXY protocol from loopback, required.
    private func startReplica(_ world: CLIWorld, name: String) async throws -> (CLIProcess, Int) {
        let config = world.directory + "/\(name).yaml"
        try String(contentsOfFile: world.directory + "/router.yaml", encoding: .utf8)
            .replacingOccurrences(of: "proxy_service:\n", with: "proxy_service:\n  proxy_protocol: { trusted_cidrs: [127.0.0.0/8], header: required }\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let replica = try CLIWorld.start(["serve", "--config", config, "--max-sigterm-delay", "10s"])
        let line = try await replica.line(containing: "Router listening on ")
        let port = try #require(line.split(separator: ";").first?.split(separator: ":").last.flatMap { Int($0) })
        return (replica, port)
    }

    private func query(_ port: Int, _ sql: String) async throws -> CLIProcess.Finished {
        try await CLIProcess.run(["psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", sql])
    }

    @Test("sessions through either replica work with the original client address; stopping one loses no session on the other")
    func twoReplicas() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let (first, firstPort) = try await startReplica(world, name: "replica-a")
        defer { first.terminate() }
        let (second, secondPort) = try await startReplica(world, name: "replica-b")
        defer { second.terminate() }

        let haproxyPort = try await freePort()
        let haproxyConfig = world.directory + "/haproxy.cfg"
        try """
            global
                maxconn 256
            defaults
                mode tcp
                timeout connect 2s
                timeout client 60s
                timeout server 60s
                retries 2
                option redispatch
            frontend routers
                bind 127.0.0.1:\(haproxyPort)
                default_backend replicas
            backend replicas
                balance roundrobin
                server a 127.0.0.1:\(firstPort) send-proxy-v2
                server b 127.0.0.1:\(secondPort) send-proxy-v2

            """.write(toFile: haproxyConfig, atomically: true, encoding: .utf8)
        let haproxy = try CLIProcess.start([try await HAProxyProcess.executable(), "-db", "-f", haproxyConfig])
        defer { haproxy.terminate() }

        let identity = world.identity(.postgresTrust).map { $0 == world.routerAddress ? "127.0.0.1:\(haproxyPort)" : $0 }
        let proxy = try CLIWorld.start(["proxy"] + identity)
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))

        // Round robin: four sessions reach both replicas, each logs the client as 127.0.0.1 (the
        // local proxy's own address, carried in the PROXY header), not HAProxy's connection.
        for index in 0..<4 {
            var result = try await query(port, "select \(index)")
            for _ in 0..<20 where result.status != 0 {  // HAProxy may still be binding its port
                try await Task.sleep(for: .milliseconds(100))
                result = try await query(port, "select \(index)")
            }
            #expect(result.stdout == "\(index)\n", "\(result.output)\n\(haproxy.transcript)")
        }
        for replica in [first, second] {
            let routed = try await replica.line(containing: "connection routed", in: .stderr)
            #expect(routed.contains("client=127.0.0.1:"), "\(routed)")
            #expect(routed.contains("service=pg1"), "\(routed)")
        }

        // Two long sessions, one on each replica; then the first replica is stopped.
        let sessions = try (0..<2).map { _ in
            try CLIProcess.start(["psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select pg_sleep(3), 'survived'"])
        }
        defer { sessions.forEach { $0.terminate() } }
        for _ in 0..<100 {
            let active = try await CLIProcess.run([
                "psql", "postgres://trustuser@127.0.0.1:\(DevDatabase.postgresPort)/appdb", "-X", "-At", "-c",
                "select count(*) from pg_stat_activity where query like 'select pg_sleep(3)%'",
            ])
            if active.stdout == "2\n" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        first.send(SIGTERM)
        _ = try await first.line(containing: "Stopping on SIGTERM")
        for session in sessions {
            #expect(try await session.exitStatus() == 0, "\(session.transcript)")
            #expect(session.output(.stdout) == "|survived\n", "\(session.transcript)")
        }
        #expect(try await first.exitStatus() == 0)
        // New sessions go to the replica that is left.
        for index in 0..<3 {
            let result = try await query(port, "select 'after \(index)'")
            #expect(result.stdout == "after \(index)\n", "\(result.output)\n\(haproxy.transcript)")
        }
    }
}
