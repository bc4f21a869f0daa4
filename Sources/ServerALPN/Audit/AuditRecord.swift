import Foundation

/// What an audit record says about a database connection, fixed when it is spliced.
public struct AuditSession: Sendable, Equatable {
    /// The router's connection id (the `conn` of its log lines).
    public var connection: UInt64
    /// The original client (PROXY protocol source when there was one, else the socket peer).
    public var clientAddress: String?
    /// The certificate's user (CN) and roles (O).
    public var user: String?
    public var roles: [String]
    /// The certificate's serial number (hex).
    public var certificateSerial: String?
    /// The database service and its protocol.
    public var service: String
    public var databaseProtocol: String
    /// The database user and database the client's login asked for (the certificate's route
    /// where the protocol has no login the router reads).
    public var databaseUser: String?
    public var databaseName: String?

    public init(
        connection: UInt64, clientAddress: String?, user: String?, roles: [String], certificateSerial: String?,
        service: String, databaseProtocol: String, databaseUser: String?, databaseName: String?
    ) {
        self.connection = connection
        self.clientAddress = clientAddress
        self.user = user
        self.roles = roles
        self.certificateSerial = certificateSerial
        self.service = service
        self.databaseProtocol = databaseProtocol
        self.databaseUser = databaseUser
        self.databaseName = databaseName
    }
}

/// Why a session ended.
public enum AuditEndReason: Sendable, Equatable {
    /// The client closed (or half-closed) its side first.
    case clientClosed
    /// The database side closed first (or the router closed the connection).
    case databaseClosed
    /// The client connection failed with this error.
    case error(String)
}

/// A statement a client sent, as the audit log records it.
public enum AuditStatement: Sendable, Equatable {
    /// SQL text: `kind` is `query` / `parse` (PostgreSQL) or `com_query` / `com_stmt_prepare` (MySQL).
    case sql(kind: String, text: String, truncated: Bool)
    /// A MongoDB command and its `$db`.
    case command(name: String, database: String?, truncated: Bool)
}

/// One line of the audit log.
public enum AuditRecord: Sendable, Equatable {
    /// A database connection was spliced.
    case sessionStart(time: Date, session: AuditSession)
    /// It closed, after `duration` seconds.
    case sessionEnd(time: Date, session: AuditSession, bytesFromClient: Int, bytesToClient: Int, duration: Double, reason: AuditEndReason)
    /// The client sent a statement.
    case statement(time: Date, connection: UInt64, databaseProtocol: String, statement: AuditStatement)

    /// The record as one line of JSON (no trailing newline), keys in a fixed order:
    /// `type`, `time`, `connection`, then the record's own fields.
    public var jsonLine: String {
        var json = AuditJSONObject()
        switch self {
        case .sessionStart(let time, let session):
            json.add("type", "session.start")
            json.add("time", time: time)
            Self.add(session, to: &json)
        case .sessionEnd(let time, let session, let fromClient, let toClient, let duration, let reason):
            json.add("type", "session.end")
            json.add("time", time: time)
            Self.add(session, to: &json)
            json.add("bytes_from_client", fromClient)
            json.add("bytes_to_client", toClient)
            json.add("duration_ms", Int((duration * 1000).rounded()))
            switch reason {
            case .clientClosed: json.add("reason", "client closed")
            case .databaseClosed: json.add("reason", "database closed")
            case .error(let text):
                json.add("reason", "error")
                json.add("error", text)
            }
        case .statement(let time, let connection, let databaseProtocol, let statement):
            json.add("type", "statement")
            json.add("time", time: time)
            json.add("connection", Int(truncatingIfNeeded: connection))
            json.add("protocol", databaseProtocol)
            switch statement {
            case .sql(let kind, let text, let truncated):
                json.add("kind", kind)
                json.add("text", text)
                json.add("truncated", truncated)
            case .command(let name, let database, let truncated):
                json.add("kind", "command")
                json.add("command", name)
                json.add("database", database)
                json.add("truncated", truncated)
            }
        }
        return json.result
    }

    private static func add(_ session: AuditSession, to json: inout AuditJSONObject) {
        json.add("connection", Int(truncatingIfNeeded: session.connection))
        json.add("client_address", session.clientAddress)
        json.add("user", session.user)
        json.add("roles", session.roles)
        json.add("certificate_serial", session.certificateSerial)
        json.add("service", session.service)
        json.add("protocol", session.databaseProtocol)
        json.add("database_user", session.databaseUser)
        json.add("database_name", session.databaseName)
    }
}
