import Foundation
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// Examples/EmbeddedProxy, built with the tests: two proxies (PostgreSQL and MariaDB) in one
/// process under swift-service-lifecycle, reached by psql and mariadb, drained by SIGTERM.
@Suite("Embedding example")
struct EmbeddedProxyExampleTests {
    @Test("the example starts two proxies, both carry a client's query, SIGTERM stops both and it exits 0")
    func twoProxiesInOneProcess() async throws {
        try await DevDatabase.requirePostgres()
        try await DevDatabase.requireMariaDB()
        let chain = try await ProxyChain.start(databases: [
            DatabaseRoute(name: "pg1", databaseProtocol: .postgres,
                          address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort)),
            DatabaseRoute(name: "my1", databaseProtocol: .mysql,
                          address: HostAndPort(host: DevDatabase.mariaDBHost, port: DevDatabase.mariaDBPort)),
        ])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-embedded-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var files: [String] = []
        for (user, service, protocolName) in [("trustuser", "pg1", "postgres"), ("alice", "my1", "mysql")] {
            var request = UserCertificateRequest(
                user: user, route: RouteToDatabase(serviceName: service, protocolName: protocolName, username: user, database: "appdb"),
                notBefore: Date() - 60, validFor: 3600)
            request.roles = ["dev"]
            let issued = try chain.pki.userCA.issueUser(request)
            let prefix = directory + "/" + service
            try DevCertificateFiles.write(issued.certificatePEM, to: prefix + ".pem", secret: false)
            try DevCertificateFiles.write(issued.privateKeyPEM, to: prefix + "-key.pem", secret: true)
            files += [prefix + ".pem", prefix + "-key.pem"]
        }
        let ca = directory + "/host-ca.pem"
        try DevCertificateFiles.write(chain.pki.hostCA.ca.certificatePEM, to: ca, secret: false)

        let example = try CLIProcess.start([try WorkloadTool.path("EmbeddedProxy"), "127.0.0.1:\(chain.routerPort)", ca] + files)
        defer { example.terminate() }
        let pgLine = try await example.line(containing: "listening pg1 postgres ")
        let myLine = try await example.line(containing: "listening my1 mysql ")
        let pgPort = try #require(pgLine.split(separator: ":").last.flatMap { Int($0) })
        let myPort = try #require(myLine.split(separator: ":").last.flatMap { Int($0) })

        let psql = try await CLIProcess.run(["psql", "postgres://trustuser@localhost:\(pgPort)/appdb", "-X", "-At", "-c", "select 'from pg'"])
        #expect(psql.stdout == "from pg\n", "\(psql.output)")
        let mariadb = try await CLIProcess.run([
            "mariadb", "--no-defaults", "--host=127.0.0.1", "--port=\(myPort)", "--protocol=TCP", "--user=alice", "--password=alice-pw",
            "--database=appdb", "--batch", "--skip-column-names", "-e", "select 'from my'",
        ])
        #expect(mariadb.stdout == "from my\n", "\(mariadb.output)")
        _ = try await example.line(containing: "closed pg1 connection 1 sent ")
        _ = try await example.line(containing: "closed my1 connection 1 sent ")

        example.send(SIGTERM)
        #expect(try await example.exitStatus() == 0, "\(example.output(.stdout))\(example.output(.stderr))")
        let output = example.output(.stdout)
        #expect(output.contains("stopped pg1") && output.contains("stopped my1"), "\(output)")
        await chain.stop()
    }
}
