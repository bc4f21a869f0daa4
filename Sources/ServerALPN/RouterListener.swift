/// Which of the router's listeners a connection came to.
enum RouterListener: Sendable, Hashable {
    /// `web_listen_addr`: TLS routed by SNI and ALPN, PROXY protocol headers and PostgreSQL
    /// clients that ask for TLS with an SSLRequest.
    case main
    /// `postgres_listen_addr`: PostgreSQL clients only (SSLRequest, then TLS with a client
    /// certificate).
    case postgres
    /// `mysql_listen_addr`: MySQL clients. The router greets with CLIENT_SSL, the client asks
    /// for TLS with an SSLRequest and logs in with a client certificate inside it.
    case mysql
    /// `mongo_listen_addr`: MongoDB clients, TLS from the first byte with a client certificate.
    case mongo

    /// The configuration key that opens this listener, for messages.
    var configurationKey: String {
        switch self {
        case .main: "web_listen_addr"
        case .postgres: "postgres_listen_addr"
        case .mysql: "mysql_listen_addr"
        case .mongo: "mongo_listen_addr"
        }
    }
}
