import Foundation
import Testing

/// A database killed under a running query: the client hears about it in its own protocol, the
/// same `dbproxy proxy` and `dbproxy serve` keep serving another database meanwhile, and once
/// the database is back new sessions work through the same processes.
@Suite("Faults: database killed mid-query", .serialized)
struct DatabaseKillTests {
    @Test("PostgreSQL stopped with -m immediate under pg_sleep: psql reports the lost connection; pg1 keeps working; pgk works after the restart")
    func postgresKilled() async throws {
        try await DevDatabase.requirePostgres()
        let database = try await OwnDatabase.start(.postgres)
        let directory = try FaultWorld.makeDirectory()
        do {
            let router = try await FaultWorld.startRouter(directory: directory, databases: [
                FaultWorld.sharedPostgres, .init(name: "pgk", protocolName: "postgres", port: database.port),
            ])
            defer { router.process.terminate() }
            let proxy = try await FaultWorld.startLocalProxy(router: router.address, users: [.pg1, .pgk])
            defer { proxy.process.terminate() }
            let pgk = try proxy.port(.pgk), pg1 = try proxy.port(.pg1)

            let before = try await FaultWorld.psql(port: pgk, "select 'up'")
            #expect(before.status == 0 && before.stdout == "up\n", "\(before.output)")

            let sleeper = try CLIProcess.start(["psql", "-X", "-At", "-h", "127.0.0.1", "-p", "\(pgk)", "-U", "trustuser", "-d", "appdb",
                                                "-c", "select pg_sleep(120)"], environment: ["PGSSLMODE": "disable"])
            defer { sleeper.terminate() }
            try await database.waitUntil("select count(*) from pg_stat_activity where state = 'active' and query like 'select pg_sleep(120)%'",
                                         prints: "1")
            try await database.kill()

            let status = try await sleeper.exitStatus()
            let report = sleeper.output(.stderr)
            #expect(status == 2, "\(sleeper.transcript)")
            // The backend's last words travel through both proxies, then libpq sees the close.
            #expect(report.contains("terminating connection due to immediate shutdown command"), "\(report)")
            #expect(report.contains("server closed the connection unexpectedly"), "\(report)")

            let other = try await FaultWorld.psql(port: pg1, "select 'still here'")
            #expect(other.status == 0 && other.stdout == "still here\n", "\(other.output)")
            let whileDown = try await FaultWorld.psql(port: pgk, "select 1")
            #expect(whileDown.status == 2, "\(whileDown.output)")
            #expect(whileDown.stderr.contains("FATAL:  dbproxy router: database \"pgk\" at 127.0.0.1:\(database.port): cannot connect"),
                    "\(whileDown.output)")

            try await database.startAgain()
            let after = try await FaultWorld.psql(port: pgk, "select 'back'")
            #expect(after.status == 0 && after.stdout == "back\n", "\(after.output)")
            #expect(!router.process.exited() && !proxy.process.exited())
        } catch {
            await database.reset()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        await database.reset()
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("MariaDB killed with SIGKILL under SELECT SLEEP: the client reports error 2013; my1 keeps working; myk works after the restart")
    func mariaDBKilled() async throws {
        try await DevDatabase.requireMariaDB()
        let database = try await OwnDatabase.start(.mariadb)
        let directory = try FaultWorld.makeDirectory()
        do {
            let router = try await FaultWorld.startRouter(directory: directory, databases: [
                FaultWorld.sharedMariaDB, .init(name: "myk", protocolName: "mysql", port: database.port),
            ])
            defer { router.process.terminate() }
            let proxy = try await FaultWorld.startLocalProxy(router: router.address, users: [.my1, .myk])
            defer { proxy.process.terminate() }
            let myk = try proxy.port(.myk), my1 = try proxy.port(.my1)

            let before = try await FaultWorld.mariadb(port: myk, "select 'up'")
            #expect(before.status == 0 && before.stdout == "up\n", "\(before.output)")

            let sleeper = try CLIProcess.start(["mariadb", "--no-defaults", "-N", "-h", "127.0.0.1", "-P", "\(myk)", "-u", "alice", "appdb",
                                                "-e", "select sleep(120)"], environment: ["MYSQL_PWD": "alice-pw"])
            defer { sleeper.terminate() }
            try await database.waitUntil("select count(*) from information_schema.processlist where info = 'select sleep(120)'", prints: "1")
            try await database.kill()

            let status = try await sleeper.exitStatus()
            #expect(status == 1, "\(sleeper.transcript)")
            #expect(sleeper.output(.stderr).contains("ERROR 2013 (HY000) at line 1: Lost connection to server during query"),
                    "\(sleeper.transcript)")

            let other = try await FaultWorld.mariadb(port: my1, "select 'still here'")
            #expect(other.status == 0 && other.stdout == "still here\n", "\(other.output)")
            let whileDown = try await FaultWorld.mariadb(port: myk, "select 1")
            #expect(whileDown.status == 1, "\(whileDown.output)")
            #expect(whileDown.stderr.contains("dbproxy router: can't connect to database \"myk\" at 127.0.0.1:\(database.port)"),
                    "\(whileDown.output)")

            try await database.startAgain()
            let after = try await FaultWorld.mariadb(port: myk, "select 'back'")
            #expect(after.status == 0 && after.stdout == "back\n", "\(after.output)")
            #expect(!router.process.exited() && !proxy.process.exited())
        } catch {
            await database.reset()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        await database.reset()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
