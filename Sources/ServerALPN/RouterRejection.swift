import ProxyCore

/// Why the router refused or dropped a connection; carried in events and log lines.
public enum RouterRejection: Error, Hashable, CustomStringConvertible {
    case notTLS(String)
    case noRoute(serverName: String?, offered: [String])
    case handshakeTimeout
    /// The database login did not finish within the login timeout.
    case loginTimeout
    case tlsFailed(String)
    case badCertificate(IdentityError)
    case route(RouteRejection)
    case backendUnreachable(HostAndPort, String)
    /// Refused in the database's protocol (the client was sent an error it can show).
    case databaseRefused(String)
    case shuttingDown
    /// A PROXY protocol header from a peer outside `proxy_protocol.trusted_cidrs` (the socket
    /// peer is named).
    case proxyHeaderUntrusted(peer: String)
    /// A trusted peer sent a PROXY protocol header that does not match the specification.
    case proxyHeaderInvalid(String)
    /// A trusted peer sent no PROXY protocol header although `proxy_protocol.header` is `required`.
    case proxyHeaderMissing(peer: String)
    /// The client address has `limit` connections open already
    /// (`proxy_service.connection_limits.max_connections`).
    case tooManyConnections(client: String, limit: Int)
    /// The client address opened new connections faster than `rate` allows
    /// (`proxy_service.connection_limits.rates`).
    case connectionRateExceeded(client: String, rate: ConnectionRate)

    /// A limit on the client address refused the connection (not the client's credentials).
    public var isConnectionLimit: Bool {
        switch self {
        case .tooManyConnections, .connectionRateExceeded: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .notTLS(let reason): "not a TLS connection: \(reason)"
        case .noRoute(let name, let offered):
            "no route for server name \(name.map { "\"\($0)\"" } ?? "(none)") and ALPN \(offered.isEmpty ? "(none)" : offered.joined(separator: ", "))"
        case .handshakeTimeout: "TLS handshake did not complete within the handshake timeout"
        case .loginTimeout: "the database login did not complete within the login timeout"
        case .tlsFailed(let reason): "TLS handshake failed: \(reason)"
        case .badCertificate(let error): "client certificate refused: \(error)"
        case .route(let rejection): rejection.description
        case .backendUnreachable(let address, let reason): "cannot reach \(address): \(reason)"
        case .databaseRefused(let reason): reason
        case .shuttingDown: "router is shutting down"
        case .proxyHeaderUntrusted(let peer):
            "PROXY protocol header from \(peer), which is not in proxy_service.proxy_protocol.trusted_cidrs"
        case .proxyHeaderInvalid(let reason): "invalid PROXY protocol header: \(reason)"
        case .proxyHeaderMissing(let peer):
            "no PROXY protocol header from trusted peer \(peer), and proxy_service.proxy_protocol.header is required"
        case .tooManyConnections(let client, let limit):
            "too many connections from \(client): \(limit) open, the most proxy_service.connection_limits.max_connections allows per client address"
        case .connectionRateExceeded(let client, let rate):
            "too many new connections from \(client): more than proxy_service.connection_limits.rates allows per client address (\(rate))"
        }
    }

    /// A short stable name for metrics labels and log fields.
    public var kind: String {
        switch self {
        case .notTLS: "not_tls"
        case .noRoute: "no_route"
        case .handshakeTimeout: "handshake_timeout"
        case .loginTimeout: "login_timeout"
        case .tlsFailed: "tls_failed"
        case .badCertificate: "bad_certificate"
        case .route: "route"
        case .backendUnreachable: "backend_unreachable"
        case .databaseRefused: "database_refused"
        case .shuttingDown: "shutting_down"
        case .proxyHeaderUntrusted: "proxy_header_untrusted"
        case .proxyHeaderInvalid: "proxy_header_invalid"
        case .proxyHeaderMissing: "proxy_header_missing"
        case .tooManyConnections: "connection_limit"
        case .connectionRateExceeded: "connection_rate"
        }
    }
}
