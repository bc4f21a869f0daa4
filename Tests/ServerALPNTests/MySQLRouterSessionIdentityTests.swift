import NIOCore
import ProxyCore
import Testing
import WireMySQL

@testable import ServerALPN

/// The client's HandshakeResponse41 against the certificate: what the certificate names, it
/// restricts; a refusal is an ERR with the client's sequence id + 1, before the database sees it.
struct MySQLRouterSessionIdentityTests {
    /// alice's response (user `alice`, database `appdb`), reframed with `sequence` and `user`.
    private func response(user: String = "alice", database: String? = "appdb", sequence: UInt8 = 1) throws -> [UInt8] {
        let golden = try #require(MySQLBytes.packet(try MySQLGolden.response()))
        var decoded = try MySQLHandshakeResponse41(decoding: golden.payload)
        decoded.username = user
        decoded.database = database
        if database == nil { decoded.capabilities.remove(.connectWithDB) }
        var payload = ByteBuffer()
        decoded.write(into: &payload)
        return MySQLBytes.frame(payload.bytes, sequence: sequence)
    }

    private func answer(_ identity: CertificateIdentity?, _ bytes: [UInt8], mode: DatabaseTLS.Mode = .disable) throws -> [MySQLRouterSession.Action] {
        var session = MySQLRouterSession(identity: identity, service: "mariadb", tlsMode: mode)
        _ = session.backendReceived(ByteBuffer(bytes: try MySQLGolden.greeting()))
        return session.clientReceived(ByteBuffer(bytes: bytes))
    }

    @Test(arguments: [DatabaseTLS.Mode.disable, .verifyFull])
    func wrongUserIsRefusedNamingTheAllowedUsers(mode: DatabaseTLS.Mode) throws {
        let identity = MySQLIdentity.make(user: "alice", allowedUsers: ["reporting"])
        let actions = try answer(identity, try response(user: "root", sequence: 1), mode: mode)
        try #require(actions.count == 1)
        let failure = try #require(actions[0].failure)
        #expect(failure.sequence == 2)
        #expect(failure.code == MySQLErrorCode.accessDenied)
        #expect(failure.sqlState == "28000")
        #expect(failure.message.contains("'root'"))
        #expect(failure.message.contains("alice, reporting"))
        #expect(failure.message.contains("mariadb"))
    }

    @Test func refusalUsesTheClientsSequencePlusOne() throws {
        let identity = MySQLIdentity.make(user: "alice")
        let actions = try answer(identity, try response(user: "bob", sequence: 7))
        #expect(actions.map(\.failure?.sequence) == [8])
    }

    @Test func wrongDatabaseIsRefusedWith1044() throws {
        let identity = MySQLIdentity.make(user: "alice", database: "appdb", allowedDatabases: ["reports"])
        let actions = try answer(identity, try response(database: "mysql"))
        try #require(actions.count == 1)
        let failure = try #require(actions[0].failure)
        #expect(failure.code == MySQLErrorCode.dbAccessDenied)
        #expect(failure.sqlState == "42000")
        #expect(failure.sequence == 2)
        #expect(failure.message.contains("'mysql'"))
        #expect(failure.message.contains("appdb, reports"))
    }

    @Test func admittedUserAndDatabasePassUnchanged() throws {
        let identity = MySQLIdentity.make(user: "alice", database: "appdb")
        let golden = try MySQLGolden.response()
        #expect(try answer(identity, golden) == [.sendToBackend(ByteBuffer(bytes: golden))])
    }

    @Test func allowedUsersListAdmitsASecondUser() throws {
        let identity = MySQLIdentity.make(user: "alice", allowedUsers: ["reporting"])
        let bytes = try response(user: "reporting")
        #expect(try answer(identity, bytes).map(\.toBackend) == [bytes])
        #expect(try answer(identity, try response(user: "reportin")).first?.failure?.code == MySQLErrorCode.accessDenied)
    }

    @Test func allowedDatabasesListAdmitsASecondDatabase() throws {
        let identity = MySQLIdentity.make(database: "appdb", allowedDatabases: ["reports"])
        let bytes = try response(database: "reports")
        #expect(try answer(identity, bytes).map(\.toBackend) == [bytes])
    }

    @Test func noDatabaseInTheResponseIsNotRefused() throws {
        let identity = MySQLIdentity.make(database: "appdb")
        let bytes = try response(database: nil)
        #expect(try answer(identity, bytes).map(\.toBackend) == [bytes])
    }

    @Test func withoutIdentityAnythingPasses() throws {
        for bytes in [try response(user: "root", database: "mysql"), try response(user: "x", database: nil)] {
            #expect(try answer(nil, bytes).map(\.toBackend) == [bytes])
        }
    }

    @Test func identityNamingNothingLeavesTheChoiceToTheDatabase() throws {
        let bytes = try response(user: "root", database: "mysql")
        #expect(try answer(MySQLIdentity.make(), bytes).map(\.toBackend) == [bytes])
    }

    @Test func refusalIsFinal() throws {
        var session = MySQLRouterSession(identity: MySQLIdentity.make(user: "alice"), service: "mariadb", tlsMode: .verifyFull)
        _ = session.backendReceived(ByteBuffer(bytes: try MySQLGolden.greeting()))
        #expect(session.clientReceived(ByteBuffer(bytes: try response(user: "bob"))).count == 1)
        #expect(session.clientReceived(ByteBuffer(bytes: try response(user: "alice"))).isEmpty)
        #expect(session.backendTLSEstablished().isEmpty)
    }
}
