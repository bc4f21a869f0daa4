import WirePostgres

/// What a PostgreSQL client is told when a connection limit refuses it.
enum PostgresLimitRefusal {
    /// SQLSTATE 53300 (too_many_connections), as PostgreSQL says "too many clients".
    static func errorResponse(_ reason: RouterRejection) -> PostgresErrorResponse {
        PostgresErrorResponse(
            severity: .fatal, sqlState: PostgresSQLState.tooManyConnections, message: "dbproxy router: \(reason)",
            hint: "Close connections you no longer use or try again shortly; the limits are proxy_service.connection_limits in the router configuration.")
    }
}
