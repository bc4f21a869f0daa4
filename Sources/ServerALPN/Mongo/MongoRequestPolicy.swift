import ProxyCore
import WireMongo

/// Decides, message by message, whether a client's request may reach the database: the
/// certificate's database names bound which `$db` a command may name. Pure; the session handler
/// performs the decision.
struct MongoRequestPolicy: Sendable {
    /// What to do with one request.
    enum Decision: Equatable, Sendable {
        /// Send it on unchanged.
        case forward
        /// Answer it with this error reply; the connection stays open.
        case refuse(MongoErrorReply)
        /// The request cannot be answered (it expects no reply, or cannot be read): close the
        /// connection after sending `reply` when there is one.
        case close(reason: String, reply: MongoErrorReply?)
    }

    /// Commands that open, authenticate and end a session: they name `admin` (or `$external`)
    /// whatever database the certificate allows, and read or change no data.
    static let sessionCommands: Set<String> = [
        "hello", "isMaster", "ismaster", "ping", "buildInfo", "buildinfo", "saslStart", "saslContinue",
        "authenticate", "logout", "getnonce", "endSessions", "whatsmyuri", "connectionStatus",
        "commitTransaction", "abortTransaction",
    ]

    /// The databases commands may name; empty: the certificate leaves it to the database.
    let allowedDatabases: [String]
    let service: String

    init(identity: CertificateIdentity?, service: String) {
        self.allowedDatabases = identity?.admittedDatabaseNames ?? []
        self.service = service
    }

    /// Whether messages must be read to the command at all.
    var enforcesDatabase: Bool { !allowedDatabases.isEmpty }

    func decide(_ summary: MongoCommandSummary) -> Decision {
        guard enforcesDatabase else { return .forward }
        let database = summary.database ?? ""
        if allowedDatabases.contains(database) { return .forward }
        if let command = summary.commandName, Self.sessionCommands.contains(command),
           database == "admin" || database == "$external"
        {
            return .forward
        }
        let what = summary.commandName.map { "command '\($0)'" } ?? "request"
        let named = database.isEmpty ? "no database" : "database '\(database)'"
        let reply = MongoErrorReply.unauthorized(
            "dbproxy router: \(what) on \(named) not allowed by certificate for \"\(service)\" (allowed: \(allowedDatabases.joined(separator: ", ")))")
        if summary.moreToCome {
            return .close(reason: "\(what) on \(named) refused; the client expects no reply, so the connection is closed", reply: nil)
        }
        return .refuse(reply)
    }

    /// A request the router cannot read: answered with a protocol error, then closed.
    static func unreadable(_ error: any Error) -> Decision {
        .close(reason: "\(error)", reply: protocolError(error))
    }

    /// The reply to a request that breaks the protocol (MongoDB's ProtocolError, code 17).
    static func protocolError(_ error: any Error) -> MongoErrorReply {
        MongoErrorReply(message: "dbproxy router: \(error)", code: 17, codeName: "ProtocolError")
    }
}
