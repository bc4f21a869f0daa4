import Foundation
import NIOCore
import ProxyCore
import Testing
import WireMongo

@testable import ServerALPN

/// The router's per-request decision, fed the summaries of captured pymongo messages and of
/// built ones; no sockets.
@Suite("MongoDB request policy")
struct MongoRequestPolicyTests {
    private static func identity(database: String, allowed: [String] = []) -> CertificateIdentity {
        CertificateIdentity(
            username: "alice", usage: ["usage:db"],
            routeToDatabase: RouteToDatabase(serviceName: "mongo1", protocolName: "mongodb", username: "alice", database: database),
            allowedDatabaseNames: allowed,
            notBefore: Date(timeIntervalSince1970: 0), notAfter: Date(timeIntervalSince1970: 4_000_000_000))
    }

    private static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/wire/mongo", isDirectory: true)

    /// The summaries of every message of a pymongo capture, in order.
    private static func summaries(_ name: String) throws -> [MongoCommandSummary] {
        var buffer = ByteBuffer(bytes: Array(try Data(contentsOf: fixtures.appendingPathComponent(name))))
        var decoder = MongoMessageDecoder()
        var summaries: [MongoCommandSummary] = []
        while let message = try decoder.decode(buffer: &buffer) {
            summaries.append(try MongoCommandReader.summary(of: message, limits: MongoMessageLimits()))
        }
        return summaries
    }

    @Test("no database in the certificate: every request passes unread")
    func unrestricted() {
        let policy = MongoRequestPolicy(identity: Self.identity(database: ""), service: "mongo1")
        #expect(!policy.enforcesDatabase)
        #expect(policy.decide(MongoCommandSummary(commandName: "dropDatabase", database: "other", moreToCome: false)) == .forward)
    }

    @Test("pymongo's captured session on appdb passes whole: handshake on admin, find on appdb",
          arguments: ["plain.client.bin", "zlib.client.bin", "find.client.bin", "handshake-msg.client.bin", "handshake-query.client.bin"])
    func capturedSessionPasses(capture: String) throws {
        let policy = MongoRequestPolicy(identity: Self.identity(database: "appdb"), service: "mongo1")
        let summaries = try Self.summaries(capture)
        #expect(!summaries.isEmpty)
        for summary in summaries {
            #expect(policy.decide(summary) == .forward, "\(summary)")
        }
    }

    @Test("a command on another database is refused with Unauthorized naming the allowed databases")
    func otherDatabase() {
        let policy = MongoRequestPolicy(identity: Self.identity(database: "appdb", allowed: ["reports"]), service: "mongo1")
        let decision = policy.decide(MongoCommandSummary(commandName: "find", database: "other", moreToCome: false))
        #expect(decision == .refuse(MongoErrorReply(
            message: "dbproxy router: command 'find' on database 'other' not allowed by certificate for \"mongo1\" (allowed: appdb, reports)",
            code: 13, codeName: "Unauthorized")))
        #expect(policy.decide(MongoCommandSummary(commandName: "find", database: "reports", moreToCome: false)) == .forward)
    }

    @Test("session commands pass on admin and $external only; data commands on admin are refused",
          arguments: [
            ("hello", "admin", true), ("saslStart", "admin", true), ("saslContinue", "$external", true),
            ("endSessions", "admin", true), ("ping", "admin", true), ("hello", "other", false),
            ("listDatabases", "admin", false), ("find", "admin", false), ("shutdown", "admin", false),
          ])
    func sessionCommands(command: String, database: String, passes: Bool) {
        let policy = MongoRequestPolicy(identity: Self.identity(database: "appdb"), service: "mongo1")
        let decision = policy.decide(MongoCommandSummary(commandName: command, database: database, moreToCome: false))
        #expect((decision == .forward) == passes, "\(decision)")
    }

    @Test("a refused request that expects no reply (moreToCome) closes the connection without a reply")
    func moreToCome() {
        let policy = MongoRequestPolicy(identity: Self.identity(database: "appdb"), service: "mongo1")
        let decision = policy.decide(MongoCommandSummary(commandName: "insert", database: "other", moreToCome: true))
        guard case .close(let reason, let reply) = decision else {
            Issue.record("expected close, got \(decision)")
            return
        }
        #expect(reply == nil)
        #expect(reason.contains("command 'insert' on database 'other' refused"))
    }

    @Test("a request without a database (legacy killCursors) is refused when the certificate names one")
    func noDatabase() {
        let policy = MongoRequestPolicy(identity: Self.identity(database: "appdb"), service: "mongo1")
        let decision = policy.decide(MongoCommandSummary(commandName: nil, database: nil, moreToCome: false))
        guard case .refuse(let reply) = decision else {
            Issue.record("expected refuse, got \(decision)")
            return
        }
        #expect(reply.message.contains("request on no database not allowed"))
    }

    @Test("an unreadable request is answered with ProtocolError (17) and closes")
    func unreadable() {
        let decision = MongoRequestPolicy.unreadable(MongoWireError.checksumMismatch(expected: 1, actual: 2))
        guard case .close(_, let reply) = decision else {
            Issue.record("expected close, got \(decision)")
            return
        }
        #expect(reply?.code == 17)
        #expect(reply?.codeName == "ProtocolError")
    }
}
