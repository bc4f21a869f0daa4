/// SQLSTATE codes this package's users send or look for.
public enum PostgresSQLState {
    /// 08006 connection_failure.
    public static let connectionFailure = "08006"
    /// 08001 sqlclient_unable_to_establish_sqlconnection.
    public static let sqlclientUnableToEstablishSQLConnection = "08001"
    /// 28000 invalid_authorization_specification.
    public static let invalidAuthorizationSpecification = "28000"
    /// 28P01 invalid_password.
    public static let invalidPassword = "28P01"
    /// 08P01 protocol_violation.
    public static let protocolViolation = "08P01"
    /// 57014 query_canceled.
    public static let queryCanceled = "57014"
    /// 53300 too_many_connections.
    public static let tooManyConnections = "53300"
    /// 3D000 invalid_catalog_name (the database does not exist).
    public static let invalidCatalogName = "3D000"
}
