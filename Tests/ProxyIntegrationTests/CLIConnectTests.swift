import Foundation
import Testing

/// `dbproxy connect`: a proxy on a free port, the database's client run through it, the
/// client's exit status passed on.
@Suite("CLI: dbproxy connect")
struct CLIConnectTests {
    @Test("psql with the arguments after --: exit 0 on success, psql's own status on a bad query")
    func psql() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let good = try await CLIWorld.run(["connect"] + world.identity(.postgresTrust) + ["--", "-X", "-At", "-c", "select 'through ' || current_user"])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.stdout == "through trustuser\n")
        let bad = try await CLIWorld.run(["connect"] + world.identity(.postgresTrust) + ["--", "-X", "-At", "-c", "select * from no_such_table"])
        #expect(bad.status == 1, "\(bad.output)")
        #expect(bad.output.contains("no_such_table"), "\(bad.output)")
    }

    @Test("NAME picks one of several --db databases: mysql (or mariadb) runs for my1")
    func namePicksDatabase() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let result = try await CLIWorld.run([
            "connect", "my1", "--proxy", world.routerAddress, "--ca", world.certificates.hostCA,
            "--db", "pg1=\(world.certificates.prefix(.postgresTrust))", "--db", "my1=\(world.certificates.prefix(.mysqlAlice))",
            "--", "-N", "-e", "select concat('through ', current_user())",
        ], environment: ["MYSQL_PWD": "alice-pw"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.hasPrefix("through alice@"), "\(result.output)")
        let unknown = try await CLIWorld.run([
            "connect", "nope", "--proxy", world.routerAddress, "--ca", world.certificates.hostCA,
            "--db", "pg1=\(world.certificates.prefix(.postgresTrust))",
        ])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("no database \"nope\""), "\(unknown.output)")
    }

    @Test("a missing client is an error that names the package to install")
    func missingClient() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let result = try await CLIWorld.run(["connect"] + world.identity(.postgresTrust), environment: ["PATH": world.directory])
        #expect(result.status != 0)
        #expect(result.output.contains("psql not found on PATH"), "\(result.output)")
        #expect(result.output.contains("postgresql-client"), "\(result.output)")
    }
}
