import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ProxyCore

/// One client connection and its TLS connection to the router. Lives on the client channel's
/// event loop.
final class Tunnel {
    private let client: Channel
    private let id: UInt64
    private let configuration: LocalProxyConfiguration
    private let sslContext: NIOSSLContext
    private let identity: CertificateIdentity
    private let now: @Sendable () -> Date
    private var logger: Logger
    private let emit: @Sendable (LocalProxyEvent) -> Void
    private let clientAddress: String
    private var deadline: Scheduled<Void>?
    private var preludeDeadline: Scheduled<Void>?
    private var failed = false
    private let acceptedAt = ContinuousClock.now
    private var readyAt: ContinuousClock.Instant?
    /// Refuse at once with this reason instead of dialling (e.g. too many connections).
    private let refusal: LocalProxyError?
    /// Whether a protocol prelude runs on the client side, and how far it got.
    private var prelude: PreludeState
    /// The router connection once its TLS handshake completed.
    private var ready: (upstream: Channel, session: UpstreamSessionHandler, negotiatedProtocol: String?)?
    /// Why the router cannot be used, kept until the client can be told in its own protocol.
    private var pendingFailure: LocalProxyError?
    /// Renders a failure in the client's protocol, for clients that have a way to show one.
    private let nativeError: ((LocalProxyError, ByteBufferAllocator) -> ByteBuffer)?
    /// Pre-handshaken router connections to take one from, and the certificate generation it
    /// must have been made with.
    private let pool: (pool: WarmPool, generation: UInt64)?
    /// The router connection came from the pool.
    private var pooled = false
    /// A pooled connection that closed before the splice, replaced by a dial of our own.
    private var retiredSession: ObjectIdentifier?

    private enum PreludeState {
        case none
        case running
        case finished
    }

    init(
        client: Channel, id: UInt64, configuration: LocalProxyConfiguration, sslContext: NIOSSLContext,
        identity: CertificateIdentity, now: @escaping @Sendable () -> Date, logger: Logger,
        hasPrelude: Bool = false, nativeError: ((LocalProxyError, ByteBufferAllocator) -> ByteBuffer)? = nil,
        refusal: LocalProxyError? = nil, pool: (pool: WarmPool, generation: UInt64)? = nil,
        emit: @escaping @Sendable (LocalProxyEvent) -> Void
    ) {
        self.refusal = refusal
        self.pool = pool
        self.prelude = hasPrelude ? .running : .none
        self.nativeError = nativeError
        self.client = client
        self.id = id
        self.configuration = configuration
        self.sslContext = sslContext
        self.identity = identity
        self.now = now
        self.emit = emit
        self.clientAddress = client.remoteAddress?.description ?? "unknown"
        var logger = logger
        logger[metadataKey: "conn"] = "\(id)"
        logger[metadataKey: "client"] = "\(clientAddress)"
        self.logger = logger
    }

    /// Checks the certificate's validity window, then takes a pooled router connection or dials.
    func open() {
        if case .running = prelude {
            // A client that never sends its first packet must not hold a connection forever.
            let bound = NIOLoopBound(self, eventLoop: client.eventLoop)
            let limit = configuration.timeouts.login
            preludeDeadline = client.eventLoop.scheduleTask(in: limit) {
                let tunnel = bound.value
                guard case .running = tunnel.prelude else { return }
                tunnel.preludeFailed("the client sent no startup packet within \(DurationText.format(limit))")
                tunnel.client.close(promise: nil)
            }
        }
        if let refusal { return fail(refusal) }
        do {
            try identity.checkValidity(at: now())
        } catch {
            return fail(.certificate(error))
        }
        if let pool, let upstream = pool.pool.take(on: client.eventLoop, generation: pool.generation), adopt(upstream) {
            return
        }
        dial()
    }

    /// Makes a pooled connection this tunnel's router connection.
    private func adopt(_ upstream: Channel) -> Bool {
        do {
            let handler = try upstream.pipeline.syncOperations.handler(type: PooledUpstreamHandler.self)
            let session = UpstreamSessionHandler(tunnel: self)
            let negotiatedProtocol = handler.negotiatedProtocol
            try handler.handOver(to: session)
            pooled = true
            logger.trace("using a pooled router connection")
            upstreamReady(upstream, session: session, negotiatedProtocol: negotiatedProtocol, framed: true)
            return true
        } catch {
            upstream.close(promise: nil)
            return false
        }
    }

    private func dial() {
        let bound = NIOLoopBound(self, eventLoop: client.eventLoop)
        deadline = client.eventLoop.scheduleTask(in: configuration.timeouts.handshake) {
            bound.value.fail(.handshakeTimeout)
        }
        let sslContext = sslContext
        let serverName = configuration.effectiveServerName
        logger.trace("dialing router", metadata: ["router": "\(configuration.routerHost):\(configuration.routerPort)"])
        ClientBootstrap(group: client.eventLoop)
            .connectTimeout(configuration.timeouts.connect)
            .proxiedConnectionOptions()
            .channelInitializer { upstream in
                upstream.eventLoop.makeCompletedFuture {
                    let operations = upstream.pipeline.syncOperations
                    try operations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    try operations.addHandler(UpstreamSessionHandler(tunnel: bound.value))
                }
            }
            .dial(HostAndPort(host: configuration.routerHost, port: configuration.routerPort))
            .whenComplete { result in
                let tunnel = bound.value
                switch result {
                case .failure(let error):
                    tunnel.fail(.routerUnreachable(host: tunnel.configuration.routerHost, port: tunnel.configuration.routerPort, reason: "\(error)"))
                case .success(let upstream):
                    tunnel.logger.trace("router connected", metadata: ["local": "\(upstream.localAddress?.description ?? "-")", "remote": "\(upstream.remoteAddress?.description ?? "-")"])
                    if !tunnel.client.isActive || tunnel.failed { upstream.close(promise: nil) }
                }
            }
    }

    /// The TLS handshake with the router completed: splice once the client's prelude is done.
    /// `framed`: ping framing is in place already (a pooled connection).
    func upstreamReady(_ upstream: Channel, session: UpstreamSessionHandler, negotiatedProtocol: String?, framed: Bool = false) {
        deadline?.cancel()
        readyAt = .now
        guard !failed, client.isActive else {
            upstream.close(promise: nil)
            return
        }
        client.closeFuture.whenComplete { _ in upstream.close(promise: nil) }
        if !framed, let negotiatedProtocol, ALPNProtocol(negotiatedProtocol).isPing {
            // At once, so the router's pings are taken off the stream while the client's prelude runs.
            do {
                let operations = upstream.pipeline.syncOperations
                try operations.addHandler(PingFramingHandler(), position: .before(session))
            } catch {
                upstream.close(promise: nil)
                return fail(.tlsRefused("cannot add ping framing: \(error)"))
            }
        }
        ready = (upstream, session, negotiatedProtocol)
        if case .running = prelude { return }
        splice()
    }

    /// The client's prelude handed its first packet to the hold handler: splice when the router
    /// connection is ready, or tell the client why it cannot be.
    func preludeFinished(cancel: Bool) {
        prelude = .finished
        preludeDeadline?.cancel()
        if let pendingFailure { return fail(pendingFailure) }
        if cancel { logger.debug("forwarding a cancel request") }
        if ready != nil { splice() }
    }

    /// The client's prelude refused the connection (and told the client why).
    func preludeFailed(_ reason: String) {
        preludeDeadline?.cancel()
        guard !failed else { return }
        failed = true
        deadline?.cancel()
        ready?.upstream.close(promise: nil)
        logger.info("client refused", metadata: ["reason": "\(reason)"])
        emit(.connectionFailed(connection: id, client: clientAddress, reason: .clientProtocol(reason)))
    }

    private func splice() {
        guard let (upstream, session, negotiatedProtocol) = ready else { return }
        do {
            let (clientGlue, upstreamGlue) = GlueHandler.matchedPair()
            // Both halves are in place before either side's held bytes move.
            try session.attach(clientGlue: clientGlue, upstreamGlue: upstreamGlue)
            try client.pipeline.syncOperations.handler(type: InboundHoldHandler.self).splice(with: clientGlue)
            session.replayHeld()
            _ = client.setOption(ChannelOptions.autoRead, value: true)
            logger.debug("tunnel open", metadata: ["alpn": "\(negotiatedProtocol ?? "-")", "pooled": "\(pooled)"])
            emit(.connectionOpened(.init(
                connection: id, client: clientAddress, negotiatedProtocol: negotiatedProtocol,
                dialDuration: acceptedAt.duration(to: readyAt ?? .now), pooled: pooled)))
        } catch {
            upstream.close(promise: nil)
            fail(.tlsRefused("cannot splice: \(error)"))
        }
    }

    /// The router connection failed. `routerSentNothing`: no byte from the router has reached
    /// the client yet, so the client still waits for its first answer and can be told why.
    /// (With TLS 1.3 the router checks the client certificate after the client has finished its
    /// handshake: a refusal arrives as an alert on what looked like an open tunnel.)
    func upstreamFailed(_ error: any Error, spliced: Bool, routerSentNothing: Bool, session: UpstreamSessionHandler) {
        let reason = LocalProxyError.tlsRefused("\(error)")
        if !spliced {
            return upstreamLostBeforeSplice(reason, session: session)
        }
        guard routerSentNothing, let nativeError, !failed else {
            logger.info("router closed the tunnel", metadata: ["reason": "\(reason)"])
            return
        }
        failed = true
        logger.warning("connection refused", metadata: ["reason": "\(reason)"])
        emit(.connectionFailed(connection: id, client: clientAddress, reason: reason))
        let message = nativeError(reason, client.allocator)
        client.writeAndFlush(message).whenComplete { [client] _ in client.close(promise: nil) }
    }

    /// The client broke its protocol after its first request (a bad message header): the
    /// connection is being closed.
    func clientBrokeProtocol(_ reason: String) {
        guard !failed else { return }
        failed = true
        logger.warning("client broke the protocol; closing", metadata: ["reason": "\(reason)"])
        emit(.connectionFailed(connection: id, client: clientAddress, reason: .clientProtocol(reason)))
        ready?.upstream.close(promise: nil)
    }

    /// The router connection ended before the splice. A pooled one may have been closed by the
    /// router just as it was taken: it is replaced once by a fresh dial.
    func upstreamLostBeforeSplice(_ reason: LocalProxyError, session: UpstreamSessionHandler) {
        let key = ObjectIdentifier(session)
        guard key != retiredSession else { return }
        if pooled, retiredSession == nil, !failed, client.isActive {
            retiredSession = key
            pooled = false
            ready = nil
            logger.debug("the pooled router connection closed before use; dialling", metadata: ["reason": "\(reason)"])
            return dial()
        }
        fail(reason)
    }

    func upstreamClosed(bytesFromClient: Int, bytesFromRouter: Int) {
        emit(.connectionClosed(.init(
            connection: id, bytesFromClient: bytesFromClient, bytesFromRouter: bytesFromRouter,
            duration: acceptedAt.duration(to: .now))))
    }

    func fail(_ reason: LocalProxyError) {
        guard !failed else { return }
        if case .running = prelude {
            // The client cannot be told yet: keep the reason until it sends its first packet.
            if pendingFailure == nil { pendingFailure = reason }
            deadline?.cancel()
            return
        }
        failed = true
        deadline?.cancel()
        ready?.upstream.close(promise: nil)
        logger.warning("connection refused", metadata: ["reason": "\(reason)"])
        emit(.connectionFailed(connection: id, client: clientAddress, reason: reason))
        if let nativeError {
            let message = nativeError(reason, client.allocator)
            client.writeAndFlush(message).whenComplete { [client] _ in client.close(promise: nil) }
        } else {
            client.close(promise: nil)
        }
    }
}

/// After the TLS handler (and ping framing) of the router connection: reports the handshake
/// and TLS failures to the tunnel, holds what the router sends before the splice exists, and,
/// once spliced, reports the byte counts when the connection ends.
final class UpstreamSessionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let tunnel: Tunnel
    private var clientGlue: GlueHandler?
    private var upstreamGlue: GlueHandler?
    private var held = HeldInbound()
    private var context: ChannelHandlerContext?

    init(tunnel: Tunnel) {
        self.tunnel = tunnel
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Puts the glue after this handler; from now on bytes pass straight through.
    func attach(clientGlue: GlueHandler, upstreamGlue: GlueHandler) throws {
        guard let context else { throw ChannelError.ioOnClosedChannel }
        try context.pipeline.syncOperations.addHandler(upstreamGlue, position: .after(self))
        self.clientGlue = clientGlue
        self.upstreamGlue = upstreamGlue
    }

    /// Passes on what the router sent before the glue was attached.
    func replayHeld() {
        guard let context else { return }
        held.replay(from: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if upstreamGlue == nil {
            held.hold(unwrapInboundIn(data))
        } else {
            context.fireChannelRead(data)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if upstreamGlue != nil { context.fireChannelReadComplete() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            tunnel.upstreamReady(context.channel, session: self, negotiatedProtocol: negotiated)
        }
        if upstreamGlue == nil, held.holdIfInputClosed(event) { return }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        tunnel.upstreamFailed(error, spliced: upstreamGlue != nil, routerSentNothing: (upstreamGlue?.bytesForwarded ?? 0) == 0, session: self)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let clientGlue, let upstreamGlue {
            tunnel.upstreamClosed(bytesFromClient: clientGlue.bytesForwarded, bytesFromRouter: upstreamGlue.bytesForwarded)
        } else {
            tunnel.upstreamLostBeforeSplice(.tlsRefused("the router closed the connection before the tunnel was open"), session: self)
        }
        context.fireChannelInactive()
    }
}
