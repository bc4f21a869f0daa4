import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL or MariaDB of the test's own, started with `scripts/dev-db` (packages mode) on a
/// free port with its own state directory, so the test may kill and restart it without touching
/// the shared databases. `reset()` stops it and deletes its data.
struct OwnDatabase: Sendable {
    enum Kind: String, Sendable {
        case postgres, mariadb
    }

    let kind: Kind
    let port: Int
    /// DEV_DB_DIR of this instance.
    let directory: String

    static var devDB: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/dev-db").path
    }

    private var environment: [String: String] {
        // The other ports only keep a stray `stop all` away from the shared databases.
        [
            "DEV_DB_MODE": "packages", "DEV_DB_DIR": directory,
            "DEV_DB_PG_PORT": kind == .postgres ? "\(port)" : "1",
            "DEV_DB_MARIA_PORT": kind == .mariadb ? "\(port)" : "1",
            "DEV_DB_MARIA_SECURE_PORT": "1", "DEV_DB_MONGO_PORT": "1",
        ]
    }

    /// Creates and starts a new instance.
    static func start(_ kind: Kind) async throws -> OwnDatabase {
        // A directory the database's own user can enter, so its data stays under it.
        let directory = "/tmp/dbproxy-fault-db-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let database = OwnDatabase(kind: kind, port: try FaultWorld.freePort(), directory: directory)
        do {
            try await database.startAgain()
        } catch {
            await database.reset()
            throw error
        }
        return database
    }

    /// `scripts/dev-db start` (after a kill: the same data, the same port).
    func startAgain() async throws {
        let result = try await CLIProcess.run([Self.devDB, "start", kind.rawValue], environment: environment, timeout: .seconds(180))
        guard result.status == 0 else { throw CLIFailure(what: "dev-db start \(kind.rawValue): \(result.output)") }
    }

    /// The server's main process, from the pid file it wrote.
    func serverPID() throws -> pid_t {
        let file = switch kind {
        case .postgres: directory + "/postgres/data/postmaster.pid"
        case .mariadb: directory + "/mariadb/mariadb.pid"
        }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        guard let pid = text.split(separator: "\n").first.flatMap({ pid_t($0.trimmingCharacters(in: .whitespaces)) }) else {
            throw CLIFailure(what: "no pid in \(file)")
        }
        return pid
    }

    /// Kills the server the hard way: PostgreSQL gets SIGQUIT (what `pg_ctl stop -m immediate`
    /// sends: every backend quits at once, no checkpoint), MariaDB gets SIGKILL. Returns once the
    /// main process is gone.
    func kill() async throws {
        let pid = try serverPID()
        _ = Glibc.kill(pid, kind == .postgres ? SIGQUIT : SIGKILL)
        let deadline = ContinuousClock.now + .seconds(30)
        while Glibc.kill(pid, 0) == 0 {
            guard ContinuousClock.now < deadline else { throw TestTimeout(what: "\(kind.rawValue) (pid \(pid)) still runs 30 s after the signal") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs SQL directly against this instance (not through the proxy) as the superuser.
    func query(_ sql: String) async throws -> CLIProcess.Finished {
        switch kind {
        case .postgres:
            try await CLIProcess.run(["psql", "-X", "-At", "-h", "127.0.0.1", "-p", "\(port)", "-U", "trustuser", "-d", "appdb", "-c", sql],
                                     environment: ["PGSSLMODE": "disable"])
        case .mariadb:
            try await CLIProcess.run(["mariadb", "--no-defaults", "-N", "--socket", directory + "/mariadb/mariadb.sock", "-uroot", "-e", sql])
        }
    }

    /// Waits until `sql` (direct) prints `expected`.
    func waitUntil(_ sql: String, prints expected: String, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            let result = try await query(sql)
            last = result.output
            if result.status == 0, result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == expected { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestTimeout(what: "\(sql) did not print \(expected) within \(timeout); last: \(last)")
    }

    /// Stops the server and deletes its data.
    func reset() async {
        _ = try? await CLIProcess.run([Self.devDB, "reset"], environment: environment, timeout: .seconds(120))
        try? FileManager.default.removeItem(atPath: directory)
    }
}
