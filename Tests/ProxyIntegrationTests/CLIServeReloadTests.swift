import Foundation
import Testing

/// `dbproxy serve` and SIGHUP: the configuration file and the certificates it names are read
/// again; new handshakes use them, open sessions go on.
@Suite("CLI: router reload")
struct CLIServeReloadTests {
    /// The serial of the certificate the router presents (`openssl s_client`, ALPN teleport-postgres).
    private func presentedSerial(port: Int) async throws -> String {
        let shell = "openssl s_client -connect 127.0.0.1:\(port) -servername localhost -alpn teleport-postgres </dev/null 2>/dev/null"
            + " | openssl x509 -noout -serial"
        return try await CLIWorld.shell(shell).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("SIGHUP with a replaced server certificate: new handshakes present it, an open session continues")
    func replacedServerCertificate() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let certificates = world.certificates.directory
        let serverCertificate = world.directory + "/server.pem"
        let serverKey = world.directory + "/server-key.pem"
        try FileManager.default.copyItem(atPath: certificates + "/server.pem", toPath: serverCertificate)
        try FileManager.default.copyItem(atPath: certificates + "/server-key.pem", toPath: serverKey)
        let config = world.directory + "/reload.yaml"
        try String(contentsOfFile: world.directory + "/router.yaml", encoding: .utf8)
            .replacingOccurrences(of: certificates + "/server.pem", with: serverCertificate)
            .replacingOccurrences(of: certificates + "/server-key.pem", with: serverKey)
            .write(toFile: config, atomically: true, encoding: .utf8)
        let router = try CLIWorld.start(["serve", "--config", config])
        defer { router.terminate() }
        let listening = try await router.line(containing: "Router listening on ")
        let routerPort = try #require(listening.split(separator: ";").first?.split(separator: ":").last.flatMap { Int($0) })
        let before = try await presentedSerial(port: routerPort)
        #expect(before.hasPrefix("serial="), "\(before)")

        let identity = world.identity(.postgresTrust).map { $0 == world.routerAddress ? "127.0.0.1:\(routerPort)" : $0 }
        let proxy = try CLIWorld.start(["proxy"] + identity)
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))
        let session = try CLIProcess.start([
            "psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select pg_sleep(3), 'done'",
        ])
        defer { session.terminate() }
        // The session is running on the database before the reload.
        for _ in 0..<100 {
            let active = try await CLIProcess.run([
                "psql", "postgres://trustuser@127.0.0.1:\(DevDatabase.postgresPort)/appdb", "-X", "-At", "-c",
                "select count(*) from pg_stat_activity where query like 'select pg_sleep(3)%'",
            ])
            if active.stdout == "1\n" { break }
            try await Task.sleep(for: .milliseconds(50))
        }

        // A new server certificate from the same host CA, written over the files, then SIGHUP.
        let made = try await CLIWorld.shell("""
            cd \(world.directory) && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
              -keyout new-key.pem -out new.csr 2>/dev/null && \
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ext.cnf && \
            openssl x509 -req -in new.csr -CA \(certificates)/host-ca.pem -CAkey \(certificates)/host-ca-key.pem \
              -set_serial 0x5EED1234 -days 1 -extfile ext.cnf -out new.pem 2>/dev/null && \
            cp new.pem \(serverCertificate) && cp new-key.pem \(serverKey)
            """)
        #expect(made.status == 0, "\(made.output)")
        router.send(SIGHUP)
        let reloaded = try await router.line(containing: "Reloaded ")
        #expect(reloaded.contains("on SIGHUP"), "\(reloaded)")
        #expect(try await presentedSerial(port: routerPort) == "serial=5EED1234")

        #expect(try await session.exitStatus() == 0)
        #expect(session.output(.stdout) == "|done\n", "\(session.output(.stdout))\(session.output(.stderr))")
        // New connections through the same local proxy still work with the new certificate.
        let after = try await CLIProcess.run(["psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select 1"])
        #expect(after.stdout == "1\n", "\(after.output)")
    }

    @Test("SIGHUP with a broken file changes nothing and says why")
    func brokenFile() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let config = world.directory + "/reload.yaml"
        try FileManager.default.copyItem(atPath: world.directory + "/router.yaml", toPath: config)
        let router = try CLIWorld.start(["serve", "--config", config])
        defer { router.terminate() }
        _ = try await router.line(containing: "Router listening on ")
        try "version: v2\nproxy_service: [".write(toFile: config, atomically: true, encoding: .utf8)
        router.send(SIGHUP)
        let failed = try await router.line(containing: "Reload of ")
        #expect(failed.contains("failed, keeping the running configuration"), "\(failed)")
    }
}
