import NIOCore
import ProxyCore
import WireMongo
import WireMySQL
import WirePostgres

/// The statement tap of one database protocol: the Wire module's incremental reader of the
/// client-to-database stream, its statements as audit statements.
enum AuditStatementTap {
    case postgres(PostgresStatementTap)
    case mysql(MySQLStatementTap)
    case mongo(MongoCommandTap)

    /// A tap for `databaseProtocol`, nil for protocols whose statements are not read.
    init?(databaseProtocol: DatabaseProtocol, maximumBytes: Int) {
        if databaseProtocol.isPostgresWire {
            self = .postgres(PostgresStatementTap(maximumTextBytes: maximumBytes))
        } else if databaseProtocol == .mysql {
            self = .mysql(MySQLStatementTap(maximumTextBytes: maximumBytes))
        } else if databaseProtocol == .mongodb {
            self = .mongo(MongoCommandTap(maximumMessageBytes: maximumBytes))
        } else {
            return nil
        }
    }

    /// Whether the stream broke the framing, so nothing more will be read.
    var isStopped: Bool {
        switch self {
        case .postgres(let tap): tap.isStopped
        case .mysql: false
        case .mongo(let tap): tap.isStopped
        }
    }

    /// Reads the next part of the stream; returns the statements completed in it.
    mutating func feed(_ bytes: ByteBuffer) -> [AuditStatement] {
        switch self {
        case .postgres(var tap):
            let statements = tap.feed(bytes)
            self = .postgres(tap)
            return statements.map { .sql(kind: $0.kind.rawValue, text: $0.text, truncated: $0.truncated) }
        case .mysql(var tap):
            let statements = tap.feed(bytes)
            self = .mysql(tap)
            return statements.map { .sql(kind: $0.kind.rawValue, text: $0.text, truncated: $0.truncated) }
        case .mongo(var tap):
            let commands = tap.feed(bytes)
            self = .mongo(tap)
            return commands.map { .command(name: $0.name, database: $0.database, truncated: $0.truncated) }
        }
    }
}
