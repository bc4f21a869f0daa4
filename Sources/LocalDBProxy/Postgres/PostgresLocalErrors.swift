import ProxyCore
import WirePostgres

extension LocalProxyError {
    /// The error as psql and libpq show it: FATAL, an SQLSTATE, what happened and what to do.
    var postgresErrorResponse: PostgresErrorResponse {
        switch self {
        case .certificate(let error):
            PostgresErrorResponse(
                severity: .fatal, sqlState: PostgresSQLState.invalidAuthorizationSpecification,
                message: "dbproxy: \(error.description)",
                hint: "Issue a new certificate (dbproxy certs issue, or tsh db login) and restart the local proxy.")
        case .routerUnreachable(let host, let port, _):
            PostgresErrorResponse(
                severity: .fatal, sqlState: PostgresSQLState.connectionFailure,
                message: "dbproxy: \(description)",
                hint: "Check that the router (dbproxy serve) is running and listening on \(host):\(port), and the --proxy address of the local proxy.")
        case .tlsRefused:
            PostgresErrorResponse(
                severity: .fatal, sqlState: PostgresSQLState.connectionFailure,
                message: "dbproxy: \(description)",
                hint: "Check that the router trusts the CA that issued your certificate, that --ca names the CA of the router's certificate, and the router's log for the reason.")
        case .clientProtocol(let reason):
            PostgresErrorResponse(severity: .fatal, sqlState: PostgresSQLState.protocolViolation, message: "dbproxy: \(reason)")
        case .tooManyConnections:
            PostgresErrorResponse(
                severity: .fatal, sqlState: PostgresSQLState.tooManyConnections,
                message: "dbproxy: \(description)",
                hint: "Close idle connections, or start the local proxy with a larger --max-connections.")
        case .handshakeTimeout:
            PostgresErrorResponse(
                severity: .fatal, sqlState: PostgresSQLState.connectionFailure,
                message: "dbproxy: \(description)",
                hint: "The router did not complete the TLS handshake in time; check its load and the network path to it.")
        }
    }
}
