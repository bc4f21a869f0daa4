import Foundation

/// The built `dbproxy` program, with certificates made by `dbproxy certs` once per test run and
/// a router started by `dbproxy serve` for each test, routing to the databases of scripts/dev-db.
struct CLIWorld {
    /// User certificates (PREFIX.pem and PREFIX-key.pem in `certificates.directory`).
    enum User: String, CaseIterable, Sendable {
        /// trustuser on pg1 (PostgreSQL, trust login).
        case postgresTrust = "pg-trust"
        /// alice on pg1 (PostgreSQL, password alice-pw).
        case postgresAlice = "pg-alice"
        /// alice on my1 (MariaDB, password alice-pw).
        case mysqlAlice = "my-alice"
        /// alice on mongo1 (MongoDB).
        case mongoAlice = "mongo-alice"
        /// trustuser on pg1, valid for an hour in 2020.
        case postgresExpired = "pg-expired"

        var issueArguments: [String] {
            switch self {
            case .postgresTrust: ["--user", "trustuser", "--db-service", "pg1", "--db-protocol", "postgres", "--db-user", "trustuser"]
            case .postgresAlice: ["--user", "alice", "--db-service", "pg1", "--db-protocol", "postgres", "--db-user", "alice"]
            case .mysqlAlice: ["--user", "alice", "--db-service", "my1", "--db-protocol", "mysql", "--db-user", "alice"]
            case .mongoAlice: ["--user", "alice", "--db-service", "mongo1", "--db-protocol", "mongodb", "--db-user", "alice"]
            case .postgresExpired:
                ["--user", "trustuser", "--db-service", "pg1", "--db-protocol", "postgres", "--db-user", "trustuser",
                 "--not-before", "2020-01-01T00:00:00Z", "--ttl", "1h"]
            }
        }
    }

    /// Where `certs init` wrote the CAs and `certs issue` the user certificates.
    struct Certificates: Sendable {
        let directory: String
        var hostCA: String { directory + "/host-ca.pem" }
        func prefix(_ user: User) -> String { directory + "/" + user.rawValue }
    }

    let certificates: Certificates
    let router: CLIProcess
    let routerPort: Int
    /// A directory of this test's own, removed by `stop()`.
    let directory: String

    var routerAddress: String { "127.0.0.1:\(routerPort)" }

    /// `--proxy ... --cert ... --key ... --ca ...` for one user.
    func identity(_ user: User) -> [String] {
        ["--proxy", routerAddress, "--cert", certificates.prefix(user) + ".pem", "--key", certificates.prefix(user) + "-key.pem",
         "--ca", certificates.hostCA]
    }

    static var dbproxy: String { get throws { try WorkloadTool.path("dbproxy") } }

    /// Starts `dbproxy ARGUMENTS...` in the background.
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> CLIProcess {
        try CLIProcess.start([try dbproxy] + arguments, environment: environment)
    }

    /// Runs `dbproxy ARGUMENTS...` to the end.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIProcess.Finished {
        try await CLIProcess.run([try dbproxy] + arguments, environment: environment)
    }

    /// Runs a shell command line (a command `dbproxy` printed, with arguments added).
    static func shell(_ commandLine: String, environment: [String: String] = [:]) async throws -> CLIProcess.Finished {
        try await CLIProcess.run(["sh", "-c", commandLine], environment: environment)
    }

    /// Made once per test run, on first use.
    private static let sharedCertificates = Task { () throws -> Certificates in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-cli-certs-\(UUID().uuidString)").path
        let initialized = try await run(["certs", "init", "--out", directory])
        guard initialized.status == 0 else { throw CLIFailure(what: "certs init: \(initialized.output)") }
        for user in User.allCases {
            let issued = try await run(["certs", "issue", "--ca-dir", directory, "--db-name", "appdb", "--out", directory + "/" + user.rawValue]
                + user.issueArguments)
            guard issued.status == 0 else { throw CLIFailure(what: "certs issue \(user): \(issued.output)") }
        }
        return Certificates(directory: directory)
    }

    /// Certificates and a router for pg1, my1 and mongo1 at the dev databases.
    static func start() async throws -> CLIWorld {
        try await DevDatabase.requirePostgres()
        try await DevDatabase.requireMariaDB()
        try await DevDatabase.requireMongo()
        let certificates = try await sharedCertificates.value
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = directory + "/router.yaml"
        try """
        version: v2
        proxy_service:
          web_listen_addr: 127.0.0.1:0
          https_keypairs:
            - { cert_file: \(certificates.directory)/server.pem, key_file: \(certificates.directory)/server-key.pem }
          client_ca_file: \(certificates.directory)/user-ca.pem
        databases:
          - { name: pg1, protocol: postgres, uri: "\(DevDatabase.postgresHost):\(DevDatabase.postgresPort)" }
          - { name: my1, protocol: mysql, uri: "\(DevDatabase.mariaDBHost):\(DevDatabase.mariaDBPort)" }
          - { name: mongo1, protocol: mongodb, uri: "\(DevDatabase.mongoHost):\(DevDatabase.mongoPort)" }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let router = try start(["serve", "--config", config, "--log-level", "warning"])
        do {
            let line = try await router.line(containing: "Router listening on ")
            guard let port = line.split(separator: ";").first?.split(separator: ":").last.flatMap({ Int($0) }) else {
                throw CLIFailure(what: "no port in \"\(line)\"")
            }
            return CLIWorld(certificates: certificates, router: router, routerPort: port, directory: directory)
        } catch {
            router.terminate()
            throw error
        }
    }

    func stop() {
        router.terminate()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The port in a startup line: `... on 127.0.0.1:40001 (router ...`.
    static func port(inStartupLine line: String) -> Int? {
        guard let on = line.range(of: " on 127.0.0.1:") else { return nil }
        return Int(line[on.upperBound...].prefix { $0.isNumber })
    }

    /// The command after `  $ ` on the line following `after` in `output`.
    static func command(in output: String, after marker: String) -> String? {
        let lines = output.split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(where: { $0.contains(marker) }) else { return nil }
        return lines[start...].first { $0.hasPrefix("  $ ") }.map { String($0.dropFirst(4)) }
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}
