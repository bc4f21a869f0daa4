import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `dbproxy serve` and `dbproxy proxy` as subprocesses with certificates of their own, for tests
/// that break things underneath them: databases started, killed and restarted by the test
/// (``OwnDatabases``), a router stopped and started again on the same port, sinks of raw TCP.
enum FaultWorld {
    /// User certificates (PREFIX.pem and PREFIX-key.pem in `certificates`).
    enum User: String, CaseIterable, Sendable {
        /// trustuser on pg1 (the shared PostgreSQL).
        case pg1 = "pg1-trust"
        /// trustuser on pgk (a PostgreSQL of the test's own).
        case pgk = "pgk-trust"
        /// alice on my1 (the shared MariaDB).
        case my1 = "my1-alice"
        /// alice on myk (a MariaDB of the test's own).
        case myk = "myk-alice"
        /// alice on sink1, a Redis route: the router forwards plain TCP to the test's sink.
        case sink = "sink1-alice"

        var service: String { String(rawValue.prefix { $0 != "-" }) }

        var issueArguments: [String] {
            switch self {
            case .pg1, .pgk: ["--user", "trustuser", "--db-service", service, "--db-protocol", "postgres", "--db-user", "trustuser"]
            case .my1, .myk: ["--user", "alice", "--db-service", service, "--db-protocol", "mysql", "--db-user", "alice"]
            case .sink: ["--user", "alice", "--db-service", service, "--db-protocol", "redis", "--db-user", "alice"]
            }
        }
    }

    /// Made once per test run, on first use.
    private static let sharedCertificates = Task { () throws -> String in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-fault-certs-\(UUID().uuidString)").path
        let initialized = try await CLIWorld.run(["certs", "init", "--out", directory])
        guard initialized.status == 0 else { throw CLIFailure(what: "certs init: \(initialized.output)") }
        for user in User.allCases {
            let issued = try await CLIWorld.run(["certs", "issue", "--ca-dir", directory, "--db-name", "appdb", "--out", directory + "/" + user.rawValue]
                + user.issueArguments)
            guard issued.status == 0 else { throw CLIFailure(what: "certs issue \(user): \(issued.output)") }
        }
        return directory
    }

    static func certificates() async throws -> String { try await sharedCertificates.value }

    /// A database route of the router configuration.
    struct Database: Sendable {
        var name: String
        var protocolName: String
        var port: Int
    }

    static var sharedPostgres: Database { Database(name: "pg1", protocolName: "postgres", port: DevDatabase.postgresPort) }
    static var sharedMariaDB: Database { Database(name: "my1", protocolName: "mysql", port: DevDatabase.mariaDBPort) }

    /// A running `dbproxy serve`.
    struct Router {
        let process: CLIProcess
        let port: Int
        let config: String
        var address: String { "127.0.0.1:\(port)" }
    }

    /// Writes a router configuration into `directory` and starts `dbproxy serve` with it.
    /// `service` lines go into `proxy_service` (e.g. `handshake_timeout: 3s`).
    static func startRouter(directory: String, databases: [Database], port: Int = 0, service: [String] = []) async throws -> Router {
        let certificates = try await certificates()
        let config = directory + "/router.yaml"
        var lines = [
            "version: v2",
            "proxy_service:",
            "  web_listen_addr: 127.0.0.1:\(port)",
            "  https_keypairs:",
            "    - { cert_file: \(certificates)/server.pem, key_file: \(certificates)/server-key.pem }",
            "  client_ca_file: \(certificates)/user-ca.pem",
        ] + service.map { "  " + $0 }
        lines.append("databases:")
        lines += databases.map { "  - { name: \($0.name), protocol: \($0.protocolName), uri: \"127.0.0.1:\($0.port)\" }" }
        try lines.joined(separator: "\n").appending("\n").write(toFile: config, atomically: true, encoding: .utf8)
        return try await startRouter(config: config)
    }

    /// Starts `dbproxy serve --config CONFIG` and waits until it listens.
    static func startRouter(config: String) async throws -> Router {
        let process = try CLIWorld.start(["serve", "--config", config, "--log-level", "warning"])
        do {
            let line = try await process.line(containing: "Router listening on ")
            guard let port = line.split(separator: ";").first?.split(separator: ":").last.flatMap({ Int($0) }) else {
                throw CLIFailure(what: "no port in \"\(line)\"")
            }
            return Router(process: process, port: port, config: config)
        } catch {
            process.terminate()
            throw error
        }
    }

    /// A running `dbproxy proxy` with one local port per database.
    struct LocalProxy {
        let process: CLIProcess
        let ports: [String: Int]

        func port(_ user: User) throws -> Int {
            guard let port = ports[user.service] else { throw CLIFailure(what: "no local port for \(user.service) in \(ports)") }
            return port
        }
    }

    /// Starts `dbproxy proxy --db SERVICE=CERT ...` for `users` against `router`.
    static func startLocalProxy(router: String, users: [User]) async throws -> LocalProxy {
        let certificates = try await certificates()
        var arguments = ["proxy", "--proxy", router, "--ca", certificates + "/host-ca.pem", "--log-level", "warning"]
        for user in users { arguments += ["--db", "\(user.service)=\(certificates)/\(user.rawValue)"] }
        let process = try CLIWorld.start(arguments)
        do {
            let summary = try await process.line(containing: "Started \(users.count) of \(users.count) database")
            var ports: [String: Int] = [:]
            for user in users {
                guard let range = summary.range(of: "\(user.service) (127.0.0.1:") else { continue }
                ports[user.service] = Int(summary[range.upperBound...].prefix { $0.isNumber })
            }
            guard ports.count == users.count else { throw CLIFailure(what: "not every port in \"\(summary)\"") }
            return LocalProxy(process: process, ports: ports)
        } catch {
            process.terminate()
            throw error
        }
    }

    /// A new directory of the test's own.
    static func makeDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-fault-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A TCP port nobody listens on right now (bound to port 0, then released).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw CLIFailure(what: "socket: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw CLIFailure(what: "bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Resident memory of a process in KiB (VmRSS of /proc/PID/status).
    static func residentKiB(_ pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    /// `psql` against a local port as trustuser on appdb.
    static func psql(port: Int, _ sql: String) async throws -> CLIProcess.Finished {
        try await CLIProcess.run(["psql", "-X", "-At", "-h", "127.0.0.1", "-p", "\(port)", "-U", "trustuser", "-d", "appdb", "-c", sql],
                                 environment: ["PGCONNECT_TIMEOUT": "30", "PGSSLMODE": "disable"])
    }

    /// `mariadb` against a local port as alice on appdb.
    static func mariadb(port: Int, _ sql: String) async throws -> CLIProcess.Finished {
        try await CLIProcess.run(["mariadb", "--no-defaults", "-N", "-h", "127.0.0.1", "-P", "\(port)", "-u", "alice", "appdb", "-e", sql],
                                 environment: ["MYSQL_PWD": "alice-pw"])
    }
}
