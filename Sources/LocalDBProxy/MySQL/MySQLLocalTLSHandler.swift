import NIOCore
import NIOSSL
import NIOTLS

/// First handler of a MySQL client connection when local TLS is on: performs the actions of
/// `MySQLLocalTLSSession` on both directions (the router's bytes are written through it), and
/// leaves the pipeline once the session passes everything through unchanged.
final class MySQLLocalTLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session = MySQLLocalTLSSession()
    private let tlsContext: NIOSSLContext

    init(tlsContext: NIOSSLContext) {
        self.tlsContext = tlsContext
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(session.fromClient(unwrapInboundIn(data)), context: context)
        stepAsideWhenTransparent(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            perform(session.tlsEstablished(), context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var written = false
        for action in session.fromRouter(unwrapOutboundIn(data)) {
            if case .forward(let bytes) = action {
                context.write(wrapOutboundOut(bytes), promise: written ? nil : promise)
                written = true
            }
        }
        if !written { promise?.succeed(()) }
        stepAsideWhenTransparent(context: context)
    }

    /// Past the login both directions are plain bytes: without this handler a read reaches the
    /// splice with no copy and no flush of its own.
    private func stepAsideWhenTransparent(context: ChannelHandlerContext) {
        guard session.isTransparent, context.channel.isActive else { return }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func perform(_ actions: [MySQLLocalTLSSession.Action], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .forward(let bytes):
                context.fireChannelRead(wrapInboundOut(bytes))
                context.fireChannelReadComplete()
            case .startTLS(let replay):
                do {
                    try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
                } catch {
                    context.close(promise: nil)
                    return
                }
                if replay.readableBytes > 0 { context.pipeline.syncOperations.fireChannelRead(NIOAny(replay)) }
            case .fail(let packet):
                context.writeAndFlush(wrapOutboundOut(packet)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        }
    }
}
