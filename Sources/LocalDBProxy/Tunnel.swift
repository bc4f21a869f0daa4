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
    private var failed = false

    init(
        client: Channel, id: UInt64, configuration: LocalProxyConfiguration, sslContext: NIOSSLContext,
        identity: CertificateIdentity, now: @escaping @Sendable () -> Date, logger: Logger,
        emit: @escaping @Sendable (LocalProxyEvent) -> Void
    ) {
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

    /// Checks the certificate's validity window, then dials the router.
    func open() {
        do {
            try identity.checkValidity(at: now())
        } catch {
            return fail(.certificate(error))
        }
        let bound = NIOLoopBound(self, eventLoop: client.eventLoop)
        deadline = client.eventLoop.scheduleTask(in: configuration.timeouts.handshake) {
            bound.value.fail(.handshakeTimeout)
        }
        let sslContext = sslContext
        let serverName = configuration.effectiveServerName
        logger.trace("dialing router", metadata: ["router": "\(configuration.routerHost):\(configuration.routerPort)"])
        ClientBootstrap(group: client.eventLoop)
            .connectTimeout(configuration.timeouts.connect)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { upstream in
                upstream.eventLoop.makeCompletedFuture {
                    let operations = upstream.pipeline.syncOperations
                    try operations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    try operations.addHandler(UpstreamSessionHandler(tunnel: bound.value))
                }
            }
            .connect(host: configuration.routerHost, port: configuration.routerPort)
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

    /// The TLS handshake with the router completed: add ping framing when negotiated and splice.
    func upstreamReady(_ upstream: Channel, session: UpstreamSessionHandler, negotiatedProtocol: String?) {
        deadline?.cancel()
        guard !failed, client.isActive else {
            upstream.close(promise: nil)
            return
        }
        do {
            let operations = upstream.pipeline.syncOperations
            if let negotiatedProtocol, ALPNProtocol(negotiatedProtocol).isPing {
                try operations.addHandler(PingFrameEncoder(), position: .before(session))
                try operations.addHandler(ByteToMessageHandler(PingFrameDecoder()), position: .before(session))
            }
            let (clientGlue, upstreamGlue) = GlueHandler.matchedPair()
            try operations.addHandler(upstreamGlue, position: .after(session))
            try client.pipeline.syncOperations.handler(type: InboundHoldHandler.self).splice(with: clientGlue)
            session.spliced(clientGlue: clientGlue, upstreamGlue: upstreamGlue)
            client.closeFuture.whenComplete { _ in upstream.close(promise: nil) }
            _ = client.setOption(ChannelOptions.autoRead, value: true)
            logger.debug("tunnel open", metadata: ["alpn": "\(negotiatedProtocol ?? "-")"])
            emit(.tunnelOpened(connection: id, client: clientAddress, negotiatedProtocol: negotiatedProtocol))
        } catch {
            upstream.close(promise: nil)
            fail(.tlsRefused("cannot splice: \(error)"))
        }
    }

    func upstreamFailed(_ error: any Error, spliced: Bool) {
        let reason = LocalProxyError.tlsRefused("\(error)")
        if spliced {
            logger.info("router closed the tunnel", metadata: ["reason": "\(reason)"])
        } else {
            fail(reason)
        }
    }

    func upstreamClosed(bytesFromClient: Int, bytesFromRouter: Int) {
        emit(.tunnelClosed(connection: id, bytesFromClient: bytesFromClient, bytesFromRouter: bytesFromRouter))
    }

    func fail(_ reason: LocalProxyError) {
        guard !failed else { return }
        failed = true
        deadline?.cancel()
        logger.warning("connection refused", metadata: ["reason": "\(reason)"])
        emit(.connectionFailed(connection: id, client: clientAddress, reason: reason))
        client.close(promise: nil)
    }
}

/// After the TLS handler of the router connection: reports the handshake and TLS failures to the
/// tunnel and, once spliced, the byte counts when the connection ends.
final class UpstreamSessionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let tunnel: Tunnel
    private var clientGlue: GlueHandler?
    private var upstreamGlue: GlueHandler?

    init(tunnel: Tunnel) {
        self.tunnel = tunnel
    }

    func spliced(clientGlue: GlueHandler, upstreamGlue: GlueHandler) {
        self.clientGlue = clientGlue
        self.upstreamGlue = upstreamGlue
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            tunnel.upstreamReady(context.channel, session: self, negotiatedProtocol: negotiated)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        tunnel.upstreamFailed(error, spliced: upstreamGlue != nil)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let clientGlue, let upstreamGlue {
            tunnel.upstreamClosed(bytesFromClient: clientGlue.bytesForwarded, bytesFromRouter: upstreamGlue.bytesForwarded)
        } else {
            tunnel.fail(.tlsRefused("the router closed the connection during the TLS handshake"))
        }
        context.fireChannelInactive()
    }
}
