import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// The databases started by `scripts/dev-db` (or docker-compose.yml), found through the same
/// environment variables the script prints with `scripts/dev-db env`.
enum DevDatabase {
    static var postgresHost: String { env("DEV_DB_PG_HOST") ?? "127.0.0.1" }
    static var postgresPort: Int { env("DEV_DB_PG_PORT").flatMap(Int.init) ?? 25432 }

    static var mariaDBHost: String { env("DEV_DB_MARIA_HOST") ?? "127.0.0.1" }
    static var mariaDBPort: Int { env("DEV_DB_MARIA_PORT").flatMap(Int.init) ?? 23307 }

    /// The second MariaDB, started with require_secure_transport=ON (`mariadb-secure`).
    static var secureMariaDBPort: Int { env("DEV_DB_MARIA_SECURE_PORT").flatMap(Int.init) ?? 23308 }

    static var mongoHost: String { env("DEV_DB_MONGO_HOST") ?? "127.0.0.1" }
    static var mongoPort: Int { env("DEV_DB_MONGO_PORT").flatMap(Int.init) ?? 27117 }
    /// `mongod` (docker-compose.yml's mongo:7) or `wire-test-server` (Tests/Fixtures/mongo).
    static var mongoKind: String { env("DEV_DB_MONGO_KIND") ?? "wire-test-server" }

    /// Fails the test (never skips it) when the MongoDB server is not listening, and says which
    /// server the test runs against.
    static func requireMongo() async throws {
        try await requireListening(host: mongoHost, port: mongoPort, name: "MongoDB (\(mongoKind))", devDBName: "mongo")
        if mongoKind == "mongod" {
            print("MongoDB tests run against mongod (docker-compose.yml mongo:7) on \(mongoHost):\(mongoPort)")
        } else {
            print("MongoDB tests run against the wire-protocol test server of Tests/Fixtures/mongo (pymongo's bson + mongomock), not mongod: mongod is not packaged for this machine")
        }
    }

    /// Fails the test (never skips it) when MariaDB is not listening.
    static func requireMariaDB() async throws {
        try await requireListening(host: mariaDBHost, port: mariaDBPort, name: "MariaDB", devDBName: "mariadb")
    }

    /// Fails the test (never skips it) when the require_secure_transport MariaDB is not listening.
    static func requireSecureMariaDB() async throws {
        try await requireListening(host: mariaDBHost, port: secureMariaDBPort, name: "MariaDB (require_secure_transport)",
                                   devDBName: "mariadb-secure")
    }

    private static func requireListening(host: String, port: Int, name: String, devDBName: String) async throws {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(2))
                .connect(host: host, port: port).get()
            try await channel.close().get()
        } catch {
            throw DevDatabaseMissing(what: "\(name) is not listening on \(host):\(port) (\(error)); start it with `scripts/dev-db start \(devDBName)`")
        }
    }

    /// The CA of the development databases' server certificate (`scripts/dev-db env`).
    static func tlsCA() throws -> String {
        guard let path = env("DEV_DB_TLS_CA"), FileManager.default.fileExists(atPath: path) else {
            throw DevDatabaseMissing(what: "DEV_DB_TLS_CA does not name the dev databases' CA; run `eval \"$(scripts/dev-db env)\"` (scripts/test does)")
        }
        return path
    }

    private static func env(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Fails the test (never skips it) when the database is not listening: a test that silently
    /// skips its real database proves nothing.
    static func requirePostgres() async throws {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(2))
                .connect(host: postgresHost, port: postgresPort).get()
            try await channel.close().get()
        } catch {
            throw DevDatabaseMissing(what: "PostgreSQL is not listening on \(postgresHost):\(postgresPort) (\(error)); start it with `scripts/dev-db start postgres`")
        }
    }
}

struct DevDatabaseMissing: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}

/// Runs a command-line client and returns what it printed (stdout and stderr together).
///
/// Children are started with posix_spawn, an empty signal mask and default signal handlers:
/// the test runner's threads block signals, and a child that inherited that mask would never
/// see SIGALRM (pgbench -T) or SIGINT (psql's cancel).
enum Command {
    struct Result {
        var status: Int32
        var output: String
    }

    struct SpawnFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs the command on a thread of its own and waits for it without holding one of the
    /// concurrency pool's threads (there are as many as cores: two blocked waits would stall
    /// every other test's timers and event streams).
    static func run(_ arguments: [String], environment: [String: String] = [:], interruptAfter: Duration? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result { try runBlocking(arguments, environment: environment, interruptAfter: interruptAfter) })
            }
        }
    }

    /// The same, blocking the calling thread: for synchronous contexts only.
    static func runBlocking(_ arguments: [String], environment: [String: String], interruptAfter: Duration?) throws -> Result {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { throw SpawnFailure(description: "pipe: errno \(errno)") }
        let (readEnd, writeEnd) = (pipe[0], pipe[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, envp)
        close(writeEnd)
        guard spawned == 0 else {
            close(readEnd)
            throw SpawnFailure(description: "posix_spawn \(arguments.first ?? ""): error \(spawned)")
        }
        if let interruptAfter {
            let seconds = Double(interruptAfter.components.seconds) + Double(interruptAfter.components.attoseconds) / 1e18
            let child = pid
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { _ = kill(child, SIGINT) }
        }
        let output = FileHandle(fileDescriptor: readEnd, closeOnDealloc: true).readDataToEndOfFile()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        let exited = status & 0x7f == 0
        return Result(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output: String(decoding: output, as: UTF8.self))
    }
}

/// The workload test tools (Tests/Tools/pgworkload, Tests/Tools/mysqlworkload), built next to
/// the test bundle; they print `key=value` facts.
enum WorkloadTool {
    static func path(_ name: String) throws -> String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ].map { $0.appendingPathComponent(name).path }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw DevDatabaseMissing(what: "\(name) not found next to the test bundle (looked in \(candidates)); build with `swift build --build-tests`")
        }
        return found
    }

    static func run(_ name: String, _ arguments: [String]) async throws -> (status: Int32, facts: [String: String], output: String) {
        facts(of: try await Command.run([try path(name)] + arguments))
    }

    static func facts(of result: Command.Result) -> (status: Int32, facts: [String: String], output: String) {
        var facts: [String: String] = [:]
        for line in result.output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            facts[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return (result.status, facts, result.output)
    }
}

/// `pgworkload CONNINFO ARGUMENTS...`
enum PGWorkload {
    static func run(_ conninfo: String, _ arguments: [String]) async throws -> (status: Int32, facts: [String: String], output: String) {
        try await WorkloadTool.run("pgworkload", [conninfo] + arguments)
    }
}

/// `python3 Tests/Tools/mongoworkload/mongoworkload.py URI ARGUMENTS...` (pymongo).
enum MongoWorkload {
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tools/mongoworkload/mongoworkload.py").path
    }

    static func run(_ uri: String, _ arguments: [String]) async throws -> (status: Int32, facts: [String: String], output: String) {
        WorkloadTool.facts(of: try await Command.run(["python3", script, uri] + arguments))
    }
}

/// `mysqlworkload --host 127.0.0.1 --port PORT ... ARGUMENTS...`
enum MySQLWorkload {
    static func run(port: Int, user: String, password: String, _ arguments: [String]) async throws -> (status: Int32, facts: [String: String], output: String) {
        try await WorkloadTool.run("mysqlworkload", [
            "--host", "127.0.0.1", "--port", "\(port)", "--user", user, "--password", password, "--database", "appdb",
            "--ssl-mode", "disabled",
        ] + arguments)
    }
}
