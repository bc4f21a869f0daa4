import NIOCore
import NIOPosix
import NIOSSL
import ProxyCore
import WirePostgres

extension RouterConnection {
    /// Hands the decrypted connection to a PostgreSQL frontend handler, which checks the
    /// startup packet against the certificate before any byte of the client reaches the
    /// database, and starts dialling the database meanwhile.
    func startPostgres(destination: RouteTable.Destination, database: DatabaseRoute, session: TLSSessionHandler) {
        let prelude = PostgresFrontendPrelude(identity: destination.identity, service: database.name)
        do {
            try session.handOver(to: PostgresFrontendHandler(prelude: prelude, connection: self, database: database))
            postgresDial = dialPostgres(database)
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

    /// Starts the connection to the database (TCP, then SSLRequest and TLS where configured)
    /// ahead of the client's startup packet. It is closed with the client's connection unless
    /// `connectPostgres` took it.
    func dialPostgres(_ database: DatabaseRoute) -> PostgresDatabaseDial {
        let dial = PostgresDatabaseDial()
        let loop = channel.eventLoop
        let tlsContext = shared.backendContexts[database.name]
        let serverName = database.tls.serverName ?? database.address.tlsServerName
        let bound = NIOLoopBound((connection: self, dial: dial), eventLoop: loop)
        dialStarting()
        ClientBootstrap(group: loop)
            .connectTimeout(shared.timeouts.connect)
            .proxiedConnectionOptions()
            .channelInitializer { backend in
                backend.eventLoop.makeCompletedFuture {
                    let handler = PostgresBackendHandler(
                        negotiation: PostgresBackendNegotiation(mode: database.tls.mode), tlsContext: tlsContext,
                        serverName: serverName,
                        onReady: { backend, negotiator in bound.value.dial.ready(backend, negotiator: negotiator) },
                        onFailure: { reason in bound.value.dial.failed(reason) })
                    try backend.pipeline.syncOperations.addHandler(handler)
                }
            }
            .dial(database.address)
            .whenComplete { result in
                let parts = bound.value
                switch result {
                case .failure(let error):
                    parts.dial.failed("cannot connect: \(error)")
                case .success(let backend):
                    parts.connection.dialFinished()
                    parts.dial.connected(backend)
                }
            }
        channel.closeFuture.whenComplete { _ in bound.value.dial.abandon() }
        return dial
    }

    /// Sends `first` (the checked startup packet, or a cancel request) to the database over the
    /// connection dialled at the handshake and splices; failures reach the client as an
    /// ErrorResponse. The dial is made again, once, when what it reports is older than the
    /// startup packet: a connection the database closed while it waited (its authentication
    /// timeout, a restart), or a failure from before the client asked (a pooled router
    /// connection waits up to its maximum age; the database may be back since).
    func connectPostgres(
        database: DatabaseRoute, first: ByteBuffer, outcome: PostgresFrontendPrelude.Outcome, frontend: PostgresFrontendHandler,
        redialled: Bool = false
    ) {
        if case .startup(let user, let name) = outcome, !redialled {
            logger.debug("postgres startup", metadata: ["db_user": "\(user)", "db_name": "\(name)"])
        }
        let dial = postgresDial ?? dialPostgres(database)
        postgresDial = nil
        // whenSettled answers at once when the outcome is there already.
        var settledBeforeTheStartupPacket = true
        dial.whenSettled { [self] result in
            switch result {
            case .ready(let backend, let negotiator) where backend.isActive:
                postgresBackendReady(backend, negotiator: negotiator, first: first, outcome: outcome, database: database, frontend: frontend)
            case .ready where !redialled:
                logger.debug("the database closed the connection dialled ahead; dialling again")
                connectPostgres(database: database, first: first, outcome: outcome, frontend: frontend, redialled: true)
            case .ready:
                postgresBackendFailed(database: database, reason: "the database closed the connection before the startup packet", frontend: frontend)
            case .failed(let reason) where settledBeforeTheStartupPacket && !redialled:
                logger.debug("the dial ahead of the startup packet failed; dialling again", metadata: ["reason": "\(reason)"])
                connectPostgres(database: database, first: first, outcome: outcome, frontend: frontend, redialled: true)
            case .failed(let reason):
                postgresBackendFailed(database: database, reason: reason, frontend: frontend)
            }
        }
        settledBeforeTheStartupPacket = false
    }

    private func postgresBackendReady(
        _ backend: Channel, negotiator: PostgresBackendHandler, first: ByteBuffer,
        outcome: PostgresFrontendPrelude.Outcome, database: DatabaseRoute, frontend: PostgresFrontendHandler
    ) {
        guard channel.isActive else {
            backend.close(promise: nil)
            return
        }
        let (clientGlue, backendGlue) = GlueHandler.matchedPair()
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
}

/// Why a database connection could not be set up, for the router's rejection event.
struct BackendSetupFailure: Error, CustomStringConvertible {
    let description: String
}
