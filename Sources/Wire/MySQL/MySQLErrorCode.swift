/// Error numbers the proxy sends or checks for.
public enum MySQLErrorCode {
    /// `ER_ACCESS_DENIED_ERROR` (SQLSTATE 28000): wrong user or password.
    public static let accessDenied: UInt16 = 1045
    /// `ER_DBACCESS_DENIED_ERROR` (SQLSTATE 42000): user may not use that database.
    public static let dbAccessDenied: UInt16 = 1044
    /// `ER_UNKNOWN_ERROR` (SQLSTATE HY000): what a proxy sends for a failure of its own. Client
    /// error numbers (2000-2999, `CR_*`) in a server's ERR packet are refused by libmariadb as
    /// a malformed packet, so they never go on the wire.
    public static let unknownError: UInt16 = 1105
    /// ER_CON_COUNT_ERROR: "Too many connections".
    public static let tooManyConnections: UInt16 = 1040
    /// `CR_CONNECTION_ERROR`: cannot connect through the local socket (client side only).
    public static let connectionError: UInt16 = 2002
    /// `CR_CONN_HOST_ERROR`: cannot connect to the server host (client side only).
    public static let connectionHostError: UInt16 = 2003
    /// `ER_HANDSHAKE_ERROR` (SQLSTATE 08S01): bad handshake.
    public static let handshakeError: UInt16 = 1043
    /// `ER_SECURE_TRANSPORT_REQUIRED` (SQLSTATE HY000): the server requires TLS.
    public static let secureTransportRequired: UInt16 = 3159
}
