import Foundation
import LocalDBProxy
import NIOCore
import NIOSSL
import ProxyCore
import ServerALPN
import Testing

/// The place a bad-input case is sent and the proof that the proxy still serves afterwards: a
/// router in front of the real databases of scripts/dev-db (`pg`, `my`, `mongo`, reached in
/// plain TCP) and local proxies for them. A case sends its raw bytes to the local proxy or
/// straight to the router, reads the answer, then a normal client (psql, mariadb, pymongo) runs a
/// real query through the same local proxy, or through a local proxy of the same router.
struct BadInputWorld {
    enum Database: String, Sendable, CaseIterable {
        case postgres = "pg", mysql = "my", mongo = "mongo"

        var protocolName: String {
            switch self {
            case .postgres: "postgres"
            case .mysql: "mysql"
            case .mongo: "mongodb"
            }
        }

        var alpn: String { "teleport-\(self == .mongo ? "mongodb" : protocolName)" }

        /// The database user of the certificates: trust authentication for PostgreSQL.
        var user: String { self == .postgres ? "trustuser" : "alice" }
    }

    let chain: ProxyChain

    /// Starts the router; fails (never skips) when a database in `requiring` is not listening.
    static func start(requiring: [Database] = [.postgres], proxyProtocol: ProxyProtocolConfiguration? = nil) async throws -> BadInputWorld {
        for database in requiring {
            switch database {
            case .postgres: try await DevDatabase.requirePostgres()
            case .mysql: try await DevDatabase.requireMariaDB()
            case .mongo: try await DevDatabase.requireMongo()
            }
        }
        let databases = [
            DatabaseRoute(name: "pg", databaseProtocol: .postgres, address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort)),
            DatabaseRoute(name: "my", databaseProtocol: .mysql, address: HostAndPort(host: DevDatabase.mariaDBHost, port: DevDatabase.mariaDBPort)),
            DatabaseRoute(name: "mongo", databaseProtocol: .mongodb, address: HostAndPort(host: DevDatabase.mongoHost, port: DevDatabase.mongoPort)),
        ]
        guard let proxyProtocol else { return BadInputWorld(chain: try await ProxyChain.start(databases: databases)) }
        // ProxyChain has no PROXY protocol setting: the same router, configured here.
        let pki = try TestPKI()
        var configuration = RouterConfiguration(
            listenAddress: HostAndPort(host: "127.0.0.1", port: 0),
            certificateChain: try pki.serverChain, privateKey: try pki.serverKey, clientCA: try pki.userCACertificates,
            databases: databases, pingInterval: .milliseconds(50),
            timeouts: ProxyTimeouts(handshake: .seconds(15), connect: .seconds(5), login: .seconds(60)))
        configuration.proxyProtocol = proxyProtocol
        let router = Router(configuration: configuration)
        let backend = try await TestBackend.start(.echo)
        let chain = ProxyChain(pki: pki, backend: backend, router: router, routerAddress: try await router.start())
        chain.routerEvents.record(router.events)
        return BadInputWorld(chain: chain)
    }

    var routerPort: Int { chain.routerPort }

    /// A certificate for `database` as its usual user, signed by the user CA.
    func certificate(_ database: Database) throws -> TLSMaterial {
        try chain.pki.user(database.user, service: database.rawValue, protocolName: database.protocolName)
    }

    /// TLS material for a certificate made from `request` (signed by the user CA unless `issuer`).
    func certificate(_ request: UserCertificateRequest, issuer: DevCertificateAuthority? = nil) throws -> TLSMaterial {
        try material(of: (issuer ?? chain.pki.userCA).issueUser(request))
    }

    func material(of issued: IssuedCertificate) throws -> TLSMaterial {
        try TLSMaterial(
            certificateChain: [try TestPKI.nio(issued.certificatePEM)],
            privateKey: try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem),
            trustRoots: try chain.pki.hostCACertificates)
    }

    /// A local proxy for `database` with its usual certificate, or with `material`.
    func localProxy(_ database: Database, material: TLSMaterial? = nil) async throws -> (LocalProxy, Int) {
        let (proxy, port, _) = try await chain.localProxy(try material ?? certificate(database))
        return (proxy, port)
    }

    /// A TLS connection straight to the router offering `alpn` (the database's ALPN unless
    /// given), with the database's usual certificate unless `material` is given.
    func routerTLS(_ database: Database, alpn: [String]? = nil, material: TLSMaterial?? = nil) async throws -> RawConnection {
        try await RawConnection.tls(
            port: routerPort, alpn: alpn ?? [database.alpn], material: try material ?? certificate(database),
            trustRoots: try chain.pki.hostCACertificates)
    }

    /// Runs a real query with the database's own client through the local proxy on `port` and
    /// records an issue unless it answers.
    func expectServes(_ database: Database, port: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        switch database {
        case .postgres:
            let result = try await Command.run([
                "psql", "host=127.0.0.1 port=\(port) user=trustuser dbname=appdb sslmode=disable connect_timeout=10",
                "-X", "-At", "-c", "select 40 + 2",
            ])
            #expect(result.output == "42\n", "psql after the bad input: \(result.output)", sourceLocation: sourceLocation)
        case .mysql:
            let result = try await Command.run([
                "mariadb", "--no-defaults", "--host=127.0.0.1", "--port=\(port)", "--protocol=TCP", "--user=alice",
                "--password=alice-pw", "--database=appdb", "--connect-timeout=10", "--batch", "--skip-column-names", "--skip-ssl",
                "-e", "select 40 + 2",
            ])
            #expect(result.output == "42\n", "mariadb after the bad input: \(result.output)", sourceLocation: sourceLocation)
        case .mongo:
            let run = try await MongoWorkload.run(
                "mongodb://alice:alice-pw@127.0.0.1:\(port)/appdb?authSource=admin&directConnection=true&serverSelectionTimeoutMS=5000",
                ["command", "--database", "appdb", "--name", "ping"])
            #expect(run.status == 0 && run.facts["ok"] == "1.0", "pymongo after the bad input: \(run.output)", sourceLocation: sourceLocation)
        }
    }

    /// A normal client through a new local proxy of this router.
    func expectRouterServes(_ database: Database, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let (proxy, port) = try await localProxy(database)
        try await expectServes(database, port: port, sourceLocation: sourceLocation)
        await proxy.stop()
    }

    /// The first rejection the router reported, if one comes within a second.
    func rejection() async -> RouterRejection? {
        try? await chain.routerEvents.first(timeout: .seconds(1)) { event -> RouterRejection? in
            if case .rejected(_, _, let reason, _) = event { return reason }
            return nil
        }
    }

    func stop() async {
        await chain.stop()
    }
}

/// One bad-input case: a name for the test list and what it sends.
struct BadBytes: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    /// Close the output after sending (the case is "... then EOF").
    var eof = false
    /// What the answer must be, in words for the failure message and the catalogue.
    let expected: String

    var testDescription: String { name }
}
