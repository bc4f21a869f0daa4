import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ProxyCore
import WireMySQL

/// Performs the actions of one connection's `MySQLRouterSession` on the client channel and
/// the database channel. Lives on the client channel's event loop.
final class MySQLSessionDriver {
    private var machine: MySQLRouterSession
    private let connection: RouterConnection
    private let database: DatabaseRoute
    private let destination: RouteTable.Destination
    private var frontend: MySQLFrontendHandler?
    private var backend: Channel?
    private var backendHandler: MySQLBackendHandler?
    private var ended = false

    /// `listener`: the client came to `mysql_listen_addr` and logged in to the router's greeting.
    init(connection: RouterConnection, database: DatabaseRoute, destination: RouteTable.Destination, listener: Bool = false) {
        self.connection = connection
        self.database = database
        self.destination = destination
        self.machine = MySQLRouterSession(
            identity: destination.identity, service: database.name, tlsMode: database.tls.mode, listener: listener)
    }

    /// Takes over the client side from `session` and connects to the database.
    func start(after session: TLSSessionHandler) throws {
        let frontend = MySQLFrontendHandler(session: self)
        self.frontend = frontend
        try session.handOver(to: frontend)
        let bound = NIOLoopBound(self, eventLoop: connection.channel.eventLoop)
        let database = database
        connection.dialStarting()
        ClientBootstrap(group: connection.channel.eventLoop)
            .connectTimeout(connection.shared.timeouts.connect)
            .proxiedConnectionOptions()
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = MySQLBackendHandler(session: bound.value)
                    bound.value.backendHandler = handler
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .dial(database.address)
            .whenComplete { result in
                let driver = bound.value
                switch result {
                case .failure(let error):
                    driver.backendFailed("cannot connect: \(error)")
                case .success(let channel):
                    driver.connection.dialFinished()
                    if driver.ended { channel.close(promise: nil) } else { driver.backend = channel }
                }
            }
    }

    // MARK: Inputs

    func clientReceived(_ bytes: ByteBuffer) {
        perform(machine.clientReceived(bytes))
    }

    func backendReceived(_ bytes: ByteBuffer) {
        perform(machine.backendReceived(bytes))
    }

    func backendTLSEstablished() {
        perform(machine.backendTLSEstablished())
    }

    func backendFailed(_ reason: String) {
        guard !ended else { return }
        var payload = ByteBuffer()
        MySQLErrorPacket(
            code: MySQLErrorCode.unknownError, sqlState: "HY000",
            message: "dbproxy router: can't connect to database \"\(database.name)\" at \(database.address): \(reason)"
        ).write(into: &payload)
        var packet = ByteBuffer()
        // Before the greeting the client waits for sequence 0; later, for the next one.
        MySQLPacket(sequenceID: machine.failureSequence ?? 0, payload: payload).write(into: &packet)
        perform([.fail(packet, reason: reason)])
    }

    func clientLeft() {
        guard !ended else { return }
        ended = true
        backend?.close(promise: nil)
        release()
        connection.perform(connection.machine.refused(.databaseRefused("the client left during login")))
    }

    // MARK: Actions

    private func perform(_ actions: [MySQLRouterSession.Action]) {
        for action in actions where !ended {
            switch action {
            case .sendToClient(let bytes):
                _ = frontend?.send(bytes)
            case .sendToBackend(let bytes):
                backend?.writeAndFlush(bytes, promise: nil)
            case .startBackendTLS:
                startBackendTLS()
            case .splice(let toBackend, let toClient):
                splice(toBackend: toBackend, toClient: toClient)
            case .fail(let packet, let reason):
                end(sending: packet, reason: reason)
            case .close(let reason):
                end(sending: nil, reason: reason)
            }
        }
    }

    private func startBackendTLS() {
        guard let backend, let context = connection.shared.backendContexts[database.name] else {
            return backendFailed("no TLS configuration for the database")
        }
        do {
            let tls = try NIOSSLClientHandler(context: context, serverHostname: database.tls.serverName ?? database.address.tlsServerName)
            try backend.pipeline.syncOperations.addHandler(tls, position: .first)
        } catch {
            backendFailed("cannot start TLS: \(error)")
        }
    }

    private func splice(toBackend: ByteBuffer, toClient: ByteBuffer) {
        guard let backend, let backendHandler, let frontend else { return }
        ended = true
        backendHandler.finish()
        if toClient.readableBytes > 0 { _ = frontend.send(toClient) }
        if toBackend.readableBytes > 0 { backend.writeAndFlush(toBackend, promise: nil) }
        let (clientGlue, backendGlue) = GlueHandler.matchedPair()
        do {
            try backend.pipeline.syncOperations.addHandler(backendGlue, position: .after(backendHandler))
            backend.pipeline.syncOperations.removeHandler(backendHandler, promise: nil)
            let login = machine.login
            if let audit = connection.auditHandler(
                destination: destination, database: database, databaseUser: login?.username, databaseName: login?.database)
            {
                try frontend.handOver(to: audit, clientGlue)
                audit.clientSentBeforeSplice(toBackend)
            } else {
                try frontend.handOver(to: clientGlue)
            }
            connection.spliced(to: database.address, destination: destination, glue: (clientGlue, backendGlue))
        } catch {
            backend.close(promise: nil)
            connection.perform(.reject(.tlsFailed("cannot splice: \(error)")))
        }
        release()
    }

    /// Drops the references that tie this driver and its handlers together.
    private func release() {
        frontend = nil
        backendHandler = nil
        backend = nil
    }

    private func end(sending packet: ByteBuffer?, reason: String) {
        ended = true
        backend?.close(promise: nil)
        let connection = connection
        let rejection = RouterRejection.databaseRefused(reason)
        let written = packet.flatMap { frontend?.send($0) }
        release()
        guard let written else { return connection.perform(connection.machine.refused(rejection)) }
        written.assumeIsolated().whenComplete { _ in connection.perform(connection.machine.refused(rejection)) }
    }
}
