import NIOCore
import NIOPosix
import NIOSSL
import ProxyCore
import WirePostgres

extension RouterConnection {
    /// Hands the decrypted connection to a PostgreSQL frontend handler, which checks the
    /// startup packet against the certificate before the database is reached.
    func startPostgres(destination: RouteTable.Destination, database: DatabaseRoute, session: TLSSessionHandler) {
        let prelude = PostgresFrontendPrelude(identity: destination.identity, service: database.name)
        do {
            try session.handOver(to: PostgresFrontendHandler(prelude: prelude, connection: self, database: database))
        } catch {
            perform(.reject(.tlsFailed("cannot start the PostgreSQL handler: \(error)")))
        }
    }

    /// Tells a PostgreSQL client why the router refused it, in answer to its startup packet.
    func refusePostgres(_ reason: RouterRejection, negotiatedProtocol: String, session: TLSSessionHandler) {
        let error = reason.isConnectionLimit
            ? PostgresLimitRefusal.errorResponse(reason)
            : PostgresErrorResponse(
                severity: .fatal, sqlState: PostgresSQLState.invalidAuthorizationSpecification,
                message: "dbproxy router: \(reason)",
                hint: reason == .route(.clientCertificateRequired)
                    ? PlainPostgresSniffing.connectHint
                    : "Issue a certificate for a database this router serves (dbproxy certs issue --db-service NAME), or add the database to the router configuration.")
        // A client that never sends its startup packet is not kept for ever.
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        deadline = channel.eventLoop.scheduleTask(in: shared.timeouts.handshake) { bound.value.perform(.reject(reason)) }
        do {
            if ALPNProtocol(negotiatedProtocol).isPing { try installPingFraming(before: session) }
            let prelude = PostgresFrontendPrelude(identity: nil, service: "", refusal: error)
            try session.handOver(to: PostgresFrontendHandler(prelude: prelude, connection: self, database: nil, refusal: reason))
        } catch {
            perform(.reject(reason))
        }
    }

    /// Connects to the database (TLS the PostgreSQL way where configured), sends it `first`
    /// and splices; failures reach the client as an ErrorResponse.
    func connectPostgres(
        database: DatabaseRoute, first: ByteBuffer, outcome: PostgresFrontendPrelude.Outcome, frontend: PostgresFrontendHandler
    ) {
        let loop = channel.eventLoop
        let tlsContext = shared.backendContexts[database.name]
        let serverName = database.tls.serverName ?? (Self.isIPAddress(database.address.host) ? nil : database.address.host)
        let (clientGlue, backendGlue) = GlueHandler.matchedPair()
        let bound = NIOLoopBound((connection: self, frontend: frontend, clientGlue: clientGlue, backendGlue: backendGlue), eventLoop: loop)
        if case .startup(let user, let name) = outcome {
            logger.debug("postgres startup", metadata: ["db_user": "\(user)", "db_name": "\(name)"])
        }
        dialStarting()
        ClientBootstrap(group: loop)
            .connectTimeout(shared.timeouts.connect)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { backend in
                backend.eventLoop.makeCompletedFuture {
                    let parts = bound.value
                    let handler = PostgresBackendHandler(
                        negotiation: PostgresBackendNegotiation(mode: database.tls.mode), tlsContext: tlsContext,
                        serverName: serverName,
                        onReady: { backend, negotiator in
                            parts.connection.postgresBackendReady(
                                backend, negotiator: negotiator, first: first, outcome: outcome, database: database,
                                frontend: parts.frontend, clientGlue: parts.clientGlue, backendGlue: parts.backendGlue)
                        },
                        onFailure: { reason in
                            parts.connection.postgresBackendFailed(database: database, reason: reason, frontend: parts.frontend)
                        })
                    try backend.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: database.address.host, port: database.address.port)
            .whenComplete { result in
                let parts = bound.value
                switch result {
                case .failure(let error):
                    parts.connection.postgresBackendFailed(database: database, reason: "cannot connect: \(error)", frontend: parts.frontend)
                case .success(let backend):
                    parts.connection.dialFinished()
                    if !parts.connection.channel.isActive { backend.close(promise: nil) }
                }
            }
    }

    private func postgresBackendReady(
        _ backend: Channel, negotiator: PostgresBackendHandler, first: ByteBuffer,
        outcome: PostgresFrontendPrelude.Outcome, database: DatabaseRoute,
        frontend: PostgresFrontendHandler, clientGlue: GlueHandler, backendGlue: GlueHandler
    ) {
        guard channel.isActive else {
            backend.close(promise: nil)
            return
        }
        do {
            backend.writeAndFlush(first, promise: nil)
            let operations = backend.pipeline.syncOperations
            if case .startup = outcome, database.tls.mode != .disable {
                let filter = PostgresAuthenticationFilterHandler()
                try operations.addHandler(filter, position: .after(negotiator))
                try operations.addHandler(backendGlue, position: .after(filter))
            } else {
                try operations.addHandler(backendGlue, position: .after(negotiator))
            }
            backend.pipeline.syncOperations.removeHandler(negotiator, promise: nil)
            let destination = machine.destination
            if case .startup(let user, let name) = outcome,
                let audit = auditHandler(destination: destination, database: database, databaseUser: user, databaseName: name)
            {
                try frontend.handOver(to: audit, clientGlue)
            } else {
                try frontend.handOver(to: clientGlue)
            }
            perform(machine.connected())
            reportSpliced(to: database.address, destination: destination, glue: (clientGlue, backendGlue))
            _ = channel.setOption(ChannelOptions.autoRead, value: true)
        } catch {
            backend.close(promise: nil)
            perform(.reject(.tlsFailed("cannot splice: \(error)")))
        }
    }

    private func postgresBackendFailed(database: DatabaseRoute, reason: String, frontend: PostgresFrontendHandler) {
        let error = PostgresErrorResponse(
            severity: .fatal, sqlState: PostgresSQLState.sqlclientUnableToEstablishSQLConnection,
            message: "dbproxy router: database \"\(database.name)\" at \(database.address): \(reason)",
            hint: "Check that the database is running and reachable from the router, and its address and tls settings in the router configuration.")
        frontend.send(error).assumeIsolated().whenComplete { _ in
            self.perform(self.machine.connectFailed(database.address, BackendSetupFailure(description: reason)))
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

/// Why a database connection could not be set up, for the router's rejection event.
struct BackendSetupFailure: Error, CustomStringConvertible {
    let description: String
}
