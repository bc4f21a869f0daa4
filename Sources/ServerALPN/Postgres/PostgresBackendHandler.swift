import NIOCore
import NIOSSL
import NIOTLS

/// First handler of the router's connection to a PostgreSQL server: performs the actions of
/// `PostgresBackendNegotiation` (SSLRequest, TLS), then reports the connection ready.
final class PostgresBackendHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var negotiation: PostgresBackendNegotiation
    private let tlsContext: NIOSSLContext?
    private let serverName: String?
    private let onReady: (Channel, PostgresBackendHandler) -> Void
    private let onFailure: (String) -> Void
    private var finished = false

    init(
        negotiation: PostgresBackendNegotiation, tlsContext: NIOSSLContext?, serverName: String?,
        onReady: @escaping (Channel, PostgresBackendHandler) -> Void, onFailure: @escaping (String) -> Void
    ) {
        self.negotiation = negotiation
        self.tlsContext = tlsContext
        self.serverName = serverName
        self.onReady = onReady
        self.onFailure = onFailure
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        perform(negotiation.connected(), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(negotiation.received(unwrapInboundIn(data)), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            perform(negotiation.tlsEstablished(), context: context)
        }
        if let event = event as? ChannelEvent, case .inputClosed = event {
            // The database said goodbye before any startup packet reached it (set-up failed, or
            // its authentication timeout ran out while the connection waited): close it, so
            // that whoever waits for it sees a closed channel and dials again.
            fail("the database closed the connection while it was being set up", context: context)
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail("the database closed the connection while it was being set up", context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("TLS with the database failed: \(error)", context: context)
    }

    private func perform(_ action: PostgresBackendNegotiation.Action, context: ChannelHandlerContext) {
        switch action {
        case .readMore:
            break
        case .send(let bytes):
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        case .startTLS:
            guard let tlsContext else { return fail("no TLS configuration for the database", context: context) }
            do {
                let tls = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName)
                try context.pipeline.syncOperations.addHandler(tls, position: .first)
            } catch {
                fail("cannot start TLS with the database: \(error)", context: context)
            }
        case .ready:
            finished = true
            onReady(context.channel, self)
        case .fail(let reason):
            fail(reason, context: context)
        }
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        onFailure(reason)
        context.close(promise: nil)
    }
}
