/// A database protocol name as carried in a certificate's RouteToDatabase.Protocol
/// attribute (1.3.9999.2.2), e.g. `postgres` or `mysql`.
public enum DatabaseProtocol: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case postgres
    case cockroachdb
    case mysql
    case mongodb
    case oracle
    case redis
    case snowflake
    case sqlserver
    case cassandra
    case elasticsearch
    case opensearch
    case dynamodb
    case clickhouse
    case clickhouseHTTP = "clickhouse-http"
    case spanner

    /// Parses a protocol name; unknown names are an error that lists the known ones.
    public init(name: String) throws(ProtocolNameError) {
        guard let known = DatabaseProtocol(rawValue: name) else {
            throw ProtocolNameError(name: name)
        }
        self = known
    }

    /// The ALPN protocol a local proxy asks the router for (without the `-ping` suffix).
    public var alpn: ALPNProtocol {
        switch self {
        case .postgres, .cockroachdb: return .postgres
        case .clickhouse, .clickhouseHTTP: return .clickhouse
        default: return ALPNProtocol("teleport-" + rawValue)
        }
    }

    /// A name for people: "PostgreSQL", "MySQL", ...
    public var displayName: String {
        switch self {
        case .postgres: "PostgreSQL"
        case .cockroachdb: "CockroachDB"
        case .mysql: "MySQL"
        case .mongodb: "MongoDB"
        case .oracle: "Oracle"
        case .redis: "Redis"
        case .snowflake: "Snowflake"
        case .sqlserver: "SQL Server"
        case .cassandra: "Cassandra"
        case .elasticsearch: "Elasticsearch"
        case .opensearch: "OpenSearch"
        case .dynamodb: "DynamoDB"
        case .clickhouse: "ClickHouse"
        case .clickhouseHTTP: "ClickHouse (HTTP)"
        case .spanner: "Spanner"
        }
    }

    public var description: String { rawValue }
}

/// An unknown database protocol name.
public struct ProtocolNameError: Error, Hashable, CustomStringConvertible {
    public let name: String
    public var description: String {
        let known = DatabaseProtocol.allCases.map(\.rawValue).joined(separator: ", ")
        return "database protocol \"\(name)\" is not supported (supported: \(known))"
    }
}

extension DatabaseProtocol {
    /// ALPN values a local proxy accepts from database clients that speak TLS to it directly
    /// (PostgreSQL 17 `sslnegotiation=direct` requires `postgresql`).
    public var localTLSApplicationProtocols: [String] {
        switch self {
        case .postgres, .cockroachdb: ["postgresql"]
        default: []
        }
    }
}

extension DatabaseProtocol {
    /// Whether the protocol is PostgreSQL's wire protocol (PostgreSQL and CockroachDB).
    public var isPostgresWire: Bool { self == .postgres || self == .cockroachdb }
}
