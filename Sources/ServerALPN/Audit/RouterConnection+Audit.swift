import ProxyCore

extension RouterConnection {
    /// The audit handler for a database connection about to be spliced, nil when the router
    /// keeps no audit log. `databaseUser`/`databaseName`: what the client's login asked for
    /// (nil: the certificate's route is recorded).
    func auditHandler(
        destination: RouteTable.Destination?, database: DatabaseRoute, databaseUser: String? = nil, databaseName: String? = nil
    ) -> AuditSessionHandler? {
        guard let log = shared.audit else { return nil }
        let identity = destination?.identity
        let route = identity?.routeToDatabase
        let session = AuditSession(
            connection: id, clientAddress: machine.clientAddress?.description, user: identity?.username,
            roles: identity?.groups ?? [], certificateSerial: identity?.serialNumber,
            service: database.name, databaseProtocol: database.databaseProtocol.rawValue,
            databaseUser: databaseUser ?? route.flatMap { $0.username.isEmpty ? nil : $0.username },
            databaseName: databaseName ?? route.flatMap { $0.database.isEmpty ? nil : $0.database })
        let tap = log.configuration.statements
            ? AuditStatementTap(databaseProtocol: database.databaseProtocol, maximumBytes: log.configuration.maximumStatementBytes)
            : nil
        return AuditSessionHandler(log: log, session: session, tap: tap, logger: logger)
    }
}
