import Foundation
import Testing

/// Several databases in one `dbproxy proxy`: from --db or --config, each on its own port; one
/// that cannot start leaves the others running and the summary says why.
@Suite("CLI: several databases in one process")
struct CLIMultipleDatabasesTests {
    @Test("--db for a PostgreSQL and a MySQL certificate, and one bad certificate: the two work, the summary names the failure")
    func databasesFromFlags() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let broken = world.directory + "/broken"
        try "not a certificate".write(toFile: broken + ".pem", atomically: true, encoding: .utf8)
        try "not a key".write(toFile: broken + "-key.pem", atomically: true, encoding: .utf8)
        let proxy = try CLIWorld.start([
            "proxy", "--proxy", world.routerAddress, "--ca", world.certificates.hostCA,
            "--db", "pg1=\(world.certificates.prefix(.postgresTrust))", "--db", "broken=\(broken)",
            "--db", "my1=\(world.certificates.prefix(.mysqlAlice)).pem",
        ])
        defer { proxy.terminate() }
        let summary = try await proxy.line(containing: "Started 2 of 3 databases: pg1 (127.0.0.1:")
        #expect(summary.contains("my1 (127.0.0.1:"), "\(summary)")
        #expect(summary.contains("Failed: broken (\(broken).pem: "), "\(summary)")
        let output = proxy.output()
        let postgres = try #require(CLIWorld.command(in: output, after: "PostgreSQL database \"pg1\""), "\(output)")
        let mysql = try #require(CLIWorld.command(in: output, after: "MySQL database \"my1\""), "\(output)")
        let pgResult = try await CLIWorld.shell(postgres + " -X -At -c 'select 1'")
        #expect(pgResult.status == 0, "\(pgResult.output)")
        #expect(pgResult.stdout == "1\n")
        let myResult = try await CLIWorld.shell(mysql + " -N -e 'select 2'", environment: ["MYSQL_PWD": "alice-pw"])
        #expect(myResult.status == 0, "\(myResult.output)")
        #expect(myResult.stdout == "2\n")
        try await proxy.line(containing: "database not started", in: .stderr)
    }

    @Test("--config YAML: a database whose port is taken fails alone; the other serves")
    func databasesFromConfig() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let config = world.directory + "/proxy.yaml"
        try """
        router: \(world.routerAddress)
        ca: \(world.certificates.hostCA)
        databases:
          - name: pg-busy
            cert: \(world.certificates.prefix(.postgresTrust)).pem
            key: \(world.certificates.prefix(.postgresTrust))-key.pem
            port: \(world.routerPort)
          - { name: my1, cert: \(world.certificates.prefix(.mysqlAlice)).pem }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let proxy = try CLIWorld.start(["proxy", "--config", config])
        defer { proxy.terminate() }
        let summary = try await proxy.line(containing: "Started 1 of 2 databases: my1 (127.0.0.1:")
        #expect(summary.contains("Failed: pg-busy (cannot listen on 127.0.0.1:\(world.routerPort): address already in use)"), "\(summary)")
        let mysql = try #require(CLIWorld.command(in: proxy.output(), after: "MySQL database \"my1\""))
        let result = try await CLIWorld.shell(mysql + " -N -e 'select 3'", environment: ["MYSQL_PWD": "alice-pw"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout == "3\n")
    }

    @Test("a --config mistake names the file, line and key")
    func configMistake() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/proxy.yaml"
        try "router: localhost:3080\nca: ca.pem\ndatabases:\n  - { name: pg1, cert: a.pem, prot: 5 }\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await CLIWorld.run(["proxy", "--config", config])
        #expect(result.status != 0)
        #expect(result.output.contains("proxy.yaml:4: databases[0].prot: unknown key"), "\(result.output)")
    }
}
