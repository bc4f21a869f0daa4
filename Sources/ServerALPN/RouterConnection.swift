import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ProxyCore
import X509

/// Shared, immutable pieces every router connection uses.
struct RouterShared: Sendable {
    let table: RouteTable
    /// Chooses a keypair (an index into `contexts`) from the ClientHello's server name.
    let keypairChooser: ServerKeypairChooser
    /// The server TLS contexts of each keypair, in configuration order (never empty).
    let contexts: [KeypairContexts]
    /// Client TLS contexts for databases reached over TLS, by database name.
    let backendContexts: [String: NIOSSLContext]
    let timeouts: ProxyTimeouts
    /// Load balancers whose PROXY protocol headers are believed (nil: nobody's).
    var proxyProtocol: ProxyProtocolConfiguration? = nil
    /// TLS for PostgreSQL clients that ask for it with an SSLRequest: client certificate asked
    /// for and verified (its absence is told inside TLS), ALPN `postgresql` or none.
    var plainPostgresContext: NIOSSLContext? = nil
    /// The listener connections come to.
    var listener = RouterListener.main
    /// TLS for MySQL clients on `mysql_listen_addr` after their SSLRequest: client certificate
    /// asked for and verified (its absence is told in an ERR packet), no ALPN.
    var mysqlContext: NIOSSLContext? = nil
    /// TLS for MongoDB clients on `mongo_listen_addr`: client certificate required, no ALPN.
    var mongoContext: NIOSSLContext? = nil
    /// The server version the greeting on `mysql_listen_addr` announces.
    var mysqlServerVersion = MySQLListenerHandshake.defaultServerVersion
    let pingInterval: TimeAmount
    let logger: Logger
    let emit: @Sendable (RouterEvent) -> Void
    /// Where database sessions are recorded (nil: no audit log).
    var audit: AuditLog? = nil
    /// The per-client-address connection limits and counts (nil: none kept).
    var admission: RouterAdmission? = nil

    /// One keypair's server TLS contexts.
    struct KeypairContexts: Sendable {
        let database: NIOSSLContext
        /// By route index, for routes that terminate TLS.
        let routes: [Int: NIOSSLContext]
    }

    /// The context for a selection, with the keypair chosen by `serverName`.
    func tlsContext(for selection: RouteTable.Selection, serverName: String?) -> NIOSSLContext? {
        let index = keypairChooser.index(for: serverName)
        guard let keypair = contexts.indices.contains(index) ? contexts[index] : contexts.first else { return nil }
        switch selection {
        case .database: return listener == .mongo ? mongoContext : keypair.database
        case .route(let route): return keypair.routes[route]
        }
    }
}

/// Performs the actions of one connection's `RouterConnectionStateMachine` on its channel. Lives
/// on the channel's event loop; its handlers hold it until the splice is in place.
final class RouterConnection {
    var machine: RouterConnectionStateMachine
    let shared: RouterShared
    let channel: Channel
    let id: UInt64
    private let peer: String
    var logger: Logger
    var deadline: Scheduled<Void>?
    private var serverName: String?
    private var negotiatedProtocol: String?
    /// When the connection to the backend was started, and how long it took once it was up.
    private var dialStarted: NIODeadline?
    private var dialDuration: TimeAmount?
    /// The database connection a PostgreSQL route starts at the handshake, until the startup
    /// packet takes it.
    var postgresDial: PostgresDatabaseDial?

    init(channel: Channel, id: UInt64, shared: RouterShared) {
        self.channel = channel
        self.id = id
        self.shared = shared
        let remote = channel.remoteAddress
        self.peer = remote?.description ?? "unknown"
        let socketPeer = remote.flatMap { address in address.ipAddress.flatMap { ip in address.port.map { HostAndPort(host: ip, port: $0) } } }
        self.machine = RouterConnectionStateMachine(
            table: shared.table, proxyProtocol: shared.proxyProtocol, peer: socketPeer, listener: shared.listener,
            checksLimits: shared.admission != nil)
        var logger = shared.logger
        logger[metadataKey: "conn"] = "\(id)"
        logger[metadataKey: "peer"] = "\(peer)"
        self.logger = logger
    }

    /// Installs the ClientHello reader and starts the handshake deadline.
    func start() throws {
        let reader = ClientHelloReader(connection: self)
        try channel.pipeline.syncOperations.addHandler(reader)
        // MySQL servers speak first; a client whose limits are still to be checked is greeted once admitted.
        if shared.listener == .mysql, machine.peerTrusted || !machine.checksLimits { greetMySQLClient() }
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        deadline = channel.eventLoop.scheduleTask(in: shared.timeouts.handshake) {
            bound.value.perform(bound.value.machine.deadlinePassed())
        }
        perform(machine.start(), reader: reader)
    }

    // MARK: Inputs

    func received(_ bytes: ByteBuffer, reader: ClientHelloReader) {
        let hadHeader = machine.proxyHeader != nil
        let action = machine.received(bytes)
        if !hadHeader, let header = machine.proxyHeader { noteProxyHeader(header) }
        if case .terminateTLS(_, let replay) = action { serverName = Self.peekServerName(replay) }
        if case .passThroughTLS(_, let replay) = action { serverName = Self.peekServerName(replay) }
        logger.trace("bytes before TLS", metadata: ["bytes": "\(bytes.readableBytes)", "action": "\(action)"])
        perform(action, reader: reader)
    }

    func handshakeCompleted(negotiatedProtocol: String?, session: TLSSessionHandler) {
        deadline?.cancel()
        self.negotiatedProtocol = negotiatedProtocol
        var certificate: Certificate?
        if let tls = try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
           let peer = tls.peerCertificate
        {
            certificate = try? Certificate(derEncoded: peer.toDERBytes())
        }
        logger.debug("TLS established", metadata: ["alpn": "\(negotiatedProtocol ?? "-")", "client_cert": "\(certificate != nil)"])
        let action = machine.handshakeCompleted(negotiatedProtocol: negotiatedProtocol, peerCertificate: certificate)
        let postgresProtocol = machine.plainPostgres ? ALPNProtocol.postgres.rawValue : negotiatedProtocol
        if case .reject(let reason) = action, machine.listener == .mysql {
            return refuseMySQL(reason, session: session)
        }
        if case .reject(let reason) = action, let postgresProtocol, ALPNProtocol(postgresProtocol).withoutPing == .postgres {
            // A PostgreSQL client shows an ErrorResponse; a closed connection only puzzles its user.
            return refusePostgres(reason, negotiatedProtocol: postgresProtocol, session: session)
        }
        perform(action, session: session)
    }

    /// The client's input ended before TLS took over.
    func inputClosed() {
        perform(machine.inputClosed())
    }

    func tlsFailed(_ error: any Error) {
        perform(machine.tlsFailed(error))
    }

    func channelClosed() {
        deadline?.cancel()
        machine.channelClosed()
    }

    // MARK: Actions

    func perform(_ action: RouterConnectionStateMachine.Action, reader: ClientHelloReader? = nil, session: TLSSessionHandler? = nil) {
        switch action {
        case .none:
            break
        case .checkLimits(let client):
            checkLimits(client, reader: reader)
        case .plainPostgres(let step):
            performPlainPostgres(step, reader: reader)
        case .mysql(let decision):
            performMySQLListener(decision, reader: reader)
        case .splice:
            deadline?.cancel()
        case .reject(let reason):
            deadline?.cancel()
            logger.info("connection refused", metadata: [
                "reason": "\(reason)", "reason_kind": "\(reason.kind)", "client": "\(machine.clientAddress?.description ?? "-")",
            ])
            shared.emit(.rejected(connection: id, peer: peer, reason: reason, clientAddress: machine.clientAddress))
            channel.close(promise: nil)
        case .terminateTLS(let selection, let replay):
            guard let reader, let context = shared.tlsContext(for: selection, serverName: serverName) else {
                return perform(.reject(.tlsFailed("no TLS configuration for the route")))
            }
            startTLS(context, after: reader, replaying: replay, step: "")
        case .passThroughTLS(let target, let replay):
            deadline?.cancel()
            guard let reader else { return }
            reader.holding = true
            connect(to: target, destination: nil) { connection, glue in
                try connection.channel.pipeline.syncOperations.addHandler(glue, position: .after(reader))
                reader.leave(replayingFirst: replay)
            }
        case .connect(let destination):
            guard let session else { return }
            if destination.pingFramed {
                do {
                    try installPingFraming(before: session)
                } catch {
                    return perform(.reject(.tlsFailed("cannot install ping framing: \(error)")))
                }
            }
            if let database = destination.database, database.databaseProtocol.isPostgresWire || database.databaseProtocol == .mysql {
                let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
                deadline = channel.eventLoop.scheduleTask(in: shared.timeouts.login) {
                    bound.value.perform(bound.value.machine.loginDeadlinePassed())
                }
            }
            if let database = destination.database, database.databaseProtocol.isPostgresWire {
                return startPostgres(destination: destination, database: database, session: session)
            }
            if let database = destination.database, database.databaseProtocol == .mongodb {
                return MongoSessionDriver(connection: self, database: database, destination: destination).start(after: session)
            }
            if let database = destination.database, database.databaseProtocol == .mysql {
                do {
                    try MySQLSessionDriver(
                        connection: self, database: database, destination: destination, listener: machine.listener == .mysql
                    ).start(after: session)
                } catch {
                    perform(.reject(.tlsFailed("cannot start the MySQL handler: \(error)")))
                }
                return
            }
            connect(to: destination.address, destination: destination) { connection, glue in
                if let database = destination.database, let audit = connection.auditHandler(destination: destination, database: database) {
                    try session.handOver(to: audit, glue)
                } else {
                    try session.handOver(to: glue)
                }
            }
        }
    }

    /// Puts TLS termination with `context` after `reader` and passes `replay` (the bytes of the
    /// client's TLS handshake read so far) into it; `step` names the occasion in errors.
    func startTLS(_ context: NIOSSLContext, after reader: ClientHelloReader, replaying replay: ByteBuffer, step: String) {
        do {
            let operations = channel.pipeline.syncOperations
            let tls = NIOSSLServerHandler(context: context)
            try operations.addHandler(tls, position: .after(reader))
            try operations.addHandler(TLSSessionHandler(connection: self), position: .after(tls))
            if replay.readableBytes > 0 {
                reader.leave(replayingFirst: replay)
            } else {
                // Nothing to replay (an empty read would reach BoringSSL as end of input).
                operations.removeHandler(reader, promise: nil)
            }
        } catch {
            perform(.reject(.tlsFailed("cannot start TLS\(step): \(error)")))
        }
    }

    /// Counts the connection against its client address's limits, or starts refusing it. A
    /// counted connection is released when its channel closes, however it ends.
    private func checkLimits(_ client: HostAndPort?, reader: ClientHelloReader?) {
        guard let admission = shared.admission else { return perform(machine.admitted(), reader: reader) }
        switch admission.admit(client) {
        case .admitted(let ticket):
            if let ticket { channel.closeFuture.whenComplete { _ in admission.release(ticket) } }
            if shared.listener == .mysql, !machine.peerTrusted { greetMySQLClient() }
            perform(machine.admitted(), reader: reader)
        case .refused(let reason):
            logger.debug("connection limit reached", metadata: ["client": "\(client?.description ?? "-")", "reason": "\(reason)"])
            perform(machine.refusedByLimits(reason), reader: reader)
        }
    }

    /// The backend connection is being started (for the dial duration).
    func dialStarting() {
        dialStarted = .now()
    }

    /// The backend's TCP connection is up.
    func dialFinished() {
        if let dialStarted { dialDuration = .now() - dialStarted }
    }

    func installPingFraming(before session: TLSSessionHandler) throws {
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(PingFramingHandler(pingInterval: shared.pingInterval), position: .before(session))
    }

    /// Connects to `address` on this channel's event loop and lets `install` put the client's
    /// half of the splice in place.
    private func connect(
        to address: HostAndPort, destination: RouteTable.Destination?,
        install: @escaping (RouterConnection, GlueHandler) throws -> Void
    ) {
        _ = channel.setOption(ChannelOptions.autoRead, value: false)
        let (clientGlue, backendGlue) = GlueHandler.matchedPair()
        let boundBackendGlue = NIOLoopBound(backendGlue, eventLoop: channel.eventLoop)
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        let boundClientGlue = NIOLoopBound(clientGlue, eventLoop: channel.eventLoop)
        let boundInstall = NIOLoopBound(install, eventLoop: channel.eventLoop)
        dialStarting()
        ClientBootstrap(group: channel.eventLoop)
            .connectTimeout(shared.timeouts.connect)
            .proxiedConnectionOptions()
            .channelInitializer { backend in
                backend.eventLoop.makeCompletedFuture {
                    try backend.pipeline.syncOperations.addHandler(boundBackendGlue.value)
                }
            }
            .dial(address)
            .whenComplete { result in
                let connection = bound.value
                switch result {
                case .failure(let error):
                    connection.perform(connection.machine.connectFailed(address, error))
                case .success(let backend):
                    connection.dialFinished()
                    connection.logger.debug("backend connected", metadata: ["destination": "\(address)", "client_active": "\(connection.channel.isActive)"])
                    guard connection.channel.isActive else {
                        backend.close(promise: nil)
                        return
                    }
                    do {
                        try boundInstall.value(connection, boundClientGlue.value)
                        connection.perform(connection.machine.connected())
                        connection.reportSpliced(to: address, destination: destination, glue: (boundClientGlue.value, boundBackendGlue.value))
                        _ = connection.channel.setOption(ChannelOptions.autoRead, value: true)
                    } catch {
                        backend.close(promise: nil)
                        connection.perform(.reject(.tlsFailed("cannot splice: \(error)")))
                    }
                }
            }
    }

    /// A protocol handler put the splice in place: record it and let bytes flow.
    func spliced(to address: HostAndPort, destination: RouteTable.Destination?, glue: (client: GlueHandler, backend: GlueHandler)) {
        perform(machine.connected())
        reportSpliced(to: address, destination: destination, glue: glue)
        _ = channel.setOption(ChannelOptions.autoRead, value: true)
    }

    /// Reports the splice, and when the client's channel closes, the bytes each glue handler
    /// carried (counted by the handlers themselves: nothing shared on the data path).
    func reportSpliced(to address: HostAndPort, destination: RouteTable.Destination?, glue: (client: GlueHandler, backend: GlueHandler)) {
        var routed = RoutedConnection(
            connection: id, peer: peer, clientAddress: machine.clientAddress, serverName: serverName, negotiatedProtocol: negotiatedProtocol,
            destination: address, database: destination?.database?.name, user: destination?.identity?.username,
            pingFramed: destination?.pingFramed ?? false, certificateSerial: destination?.identity?.serialNumber)
        routed.backendDialDuration = dialDuration.map { Duration.nanoseconds($0.nanoseconds) }
        let splicedAt = NIODeadline.now()
        let boundGlue = NIOLoopBound(glue, eventLoop: channel.eventLoop)
        let emit = shared.emit
        channel.closeFuture.whenComplete { [routed] _ in
            let glue = boundGlue.value
            emit(.closed(ClosedConnection(
                routed: routed, bytesFromClient: glue.client.bytesForwarded, bytesToClient: glue.backend.bytesForwarded,
                duration: Duration.nanoseconds((NIODeadline.now() - splicedAt).nanoseconds))))
        }
        logger.info("connection routed", metadata: [
            "destination": "\(address)", "alpn": "\(negotiatedProtocol ?? "-")",
            "service": "\(routed.database ?? "-")", "user": "\(routed.user ?? "-")",
            "cert_serial": "\(routed.certificateSerial ?? "-")",
        ])
        shared.emit(.routed(routed))
    }

    /// A trusted load balancer's header was read: from here on the logs name its client.
    private func noteProxyHeader(_ header: ProxyProtocolHeader) {
        if let client = header.clientAddress { logger[metadataKey: "client"] = "\(client)" }
        logger.debug("PROXY protocol header", metadata: [
            "version": "\(header.version.rawValue)", "command": "\(header.command)", "transport": "\(header.transport)",
            "source": "\(header.source?.description ?? "-")", "destination": "\(header.destination?.description ?? "-")",
            "header_bytes": "\(header.consumedBytes)",
        ])
    }

    func logHandOver(bytes: Int) {
        logger.debug("splicing", metadata: ["held_bytes": "\(bytes)"])
    }

    private static func peekServerName(_ bytes: ByteBuffer) -> String? {
        if case .clientHello(let hello) = ClientHelloParser.parse(bytes) { return hello.serverName }
        return nil
    }
}

/// First handler of a router connection: hands raw bytes to the connection until it has seen
/// the ClientHello and replaced this handler.
final class ClientHelloReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let connection: RouterConnection
    private var held = HeldInbound()
    private var context: ChannelHandlerContext?
    /// Set once the connection has decided to pass TLS through: later bytes wait for the splice.
    var holding = false

    init(connection: RouterConnection) {
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if holding {
            held.hold(unwrapInboundIn(data))
        } else {
            connection.received(unwrapInboundIn(data), reader: self)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !holding, let channelEvent = event as? ChannelEvent, case .inputClosed = channelEvent {
            return connection.inputClosed()
        }
        if !held.holdIfInputClosed(event) {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Passes the ClientHello bytes, then whatever arrived after them, to the handlers placed
    /// after this one, and leaves the pipeline.
    func leave(replayingFirst first: ByteBuffer) {
        guard let context else { return }
        context.fireChannelRead(wrapInboundOut(first))
        held.replay(from: context)
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Sits after the TLS handler: reports the handshake, holds the first decrypted bytes while the
/// backend is being reached, then gives way to the splice.
final class TLSSessionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let connection: RouterConnection
    private var held = HeldInbound()
    private var context: ChannelHandlerContext?

    init(connection: RouterConnection) {
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            connection.handshakeCompleted(negotiatedProtocol: negotiated, session: self)
        }
        if !held.holdIfInputClosed(event) {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        held.hold(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {}

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.tlsFailed(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelClosed()
        context.fireChannelInactive()
    }

    /// Puts `handlers` (the glue, or protocol handlers then the glue) after this handler, in
    /// order, passes on what was held and leaves the pipeline.
    func handOver(to handlers: any ChannelHandler...) throws {
        guard let context else { throw ChannelError.ioOnClosedChannel }
        var position: ChannelPipeline.SynchronousOperations.Position = .after(self)
        for handler in handlers {
            try context.pipeline.syncOperations.addHandler(handler, position: position)
            position = .after(handler)
        }
        connection.logHandOver(bytes: held.byteCount)
        held.replay(from: context)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
