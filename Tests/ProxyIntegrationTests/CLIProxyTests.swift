import Foundation
import Testing

/// `dbproxy proxy` as a user runs it: the built program, certificates from `dbproxy certs`, a
/// router from `dbproxy serve`, and the commands it prints run as printed.
@Suite("CLI: dbproxy proxy")
struct CLIProxyTests {
    @Test("the certificate picks the protocol; the startup line names it and its ALPN; the printed command and URI work",
          arguments: [
              (CLIWorld.User.postgresAlice, "PostgreSQL", "pg1", "teleport-postgres"),
              (CLIWorld.User.mysqlAlice, "MySQL", "my1", "teleport-mysql"),
              (CLIWorld.User.mongoAlice, "MongoDB", "mongo1", "teleport-mongodb"),
          ])
    func protocolFromCertificate(user: CLIWorld.User, display: String, service: String, alpn: String) async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let proxy = try CLIWorld.start(["proxy"] + world.identity(user))
        defer { proxy.terminate() }
        let started = try await proxy.line(containing: "Started authenticated tunnel")
        #expect(started.contains("for the \(display) database \"\(service)\" on 127.0.0.1:"), "\(started)")
        #expect(started.contains("(router \(world.routerAddress), ALPN \(alpn)-ping, \(alpn); certificate valid until "), "\(started)")
        let uri = String(try await proxy.line(containing: "Connection URI for GUI tools: ").dropFirst("Connection URI for GUI tools: ".count))
        let command = try #require(CLIWorld.command(in: proxy.output(), after: "Started authenticated tunnel"), "\(proxy.transcript)")
        let port = try #require(CLIWorld.port(inStartupLine: started))
        switch user {
        case .postgresAlice:
            #expect(command == "psql \"postgres://alice@localhost:\(port)/appdb\"")
            #expect(uri == "postgres://alice@localhost:\(port)/appdb")
            let result = try await CLIWorld.shell(command + " -X -At -c 'select current_user'", environment: ["PGPASSWORD": "alice-pw"])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.stdout == "alice\n")
        case .mysqlAlice:
            #expect(command.hasPrefix("mysql --user alice --database appdb --port \(port) "), "\(command)")
            #expect(uri == "mysql://alice@127.0.0.1:\(port)/appdb")
            let result = try await CLIWorld.shell(command + " -N -e 'select current_user()'", environment: ["MYSQL_PWD": "alice-pw"])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.stdout.hasPrefix("alice@"), "\(result.output)")
        default:
            #expect(command.hasPrefix("mongosh \"mongodb://localhost:\(port)/appdb?directConnection=true"), "\(command)")
            #expect(uri == "mongodb://localhost:\(port)/appdb?directConnection=true")
            let run = try await CLIProcess.run(["python3", MongoWorkload.script, uri + "&serverSelectionTimeoutMS=5000", "command"])
            #expect(run.status == 0, "\(run.output)")
        }
    }

    @Test("--identity DIR with --unix-socket DIR: psql -h DIR and the printed command reach PostgreSQL")
    func identityFolderAndUnixSocket() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let identity = world.directory + "/id"
        let sockets = world.directory + "/sock"
        try FileManager.default.createDirectory(atPath: identity, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: sockets, withIntermediateDirectories: true)
        let prefix = world.certificates.prefix(.postgresTrust)
        try FileManager.default.copyItem(atPath: prefix + ".pem", toPath: identity + "/cert.pem")
        try FileManager.default.copyItem(atPath: prefix + "-key.pem", toPath: identity + "/key.pem")
        try FileManager.default.copyItem(atPath: world.certificates.hostCA, toPath: identity + "/ca.pem")
        let proxy = try CLIWorld.start(["proxy", "--proxy", world.routerAddress, "--identity", identity, "--unix-socket", sockets])
        defer { proxy.terminate() }
        let started = try await proxy.line(containing: "Started authenticated tunnel")
        #expect(started.contains("on \(sockets)/.s.PGSQL.5432 "), "\(started)")
        let command = try #require(CLIWorld.command(in: proxy.output(), after: "Started authenticated tunnel"))
        #expect(command == "psql \"host=\(sockets) port=5432 user=trustuser dbname=appdb\"")
        let printed = try await CLIWorld.shell(command + " -X -At -c 'select 1'")
        #expect(printed.status == 0, "\(printed.output)")
        #expect(printed.stdout == "1\n")
        let short = try await CLIProcess.run(["psql", "-h", sockets, "-U", "trustuser", "-d", "appdb", "-X", "-At", "-c", "select 2"])
        #expect(short.status == 0, "\(short.output)")
        #expect(short.stdout == "2\n")
    }

    @Test("an expired certificate: a warning at start, and psql shows \"certificate expired at\"")
    func expiredCertificate() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let proxy = try CLIWorld.start(["proxy"] + world.identity(.postgresExpired))
        defer { proxy.terminate() }
        let started = try await proxy.line(containing: "Started authenticated tunnel")
        try await proxy.line(containing: "certificate expired at 2020-01-01T01:00:00Z", in: .stderr)
        let port = try #require(CLIWorld.port(inStartupLine: started))
        let result = try await CLIProcess.run(["psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select 1"])
        #expect(result.status != 0)
        #expect(result.output.contains("certificate expired at 2020-01-01T01:00:00Z"), "\(result.output)")
    }
}
