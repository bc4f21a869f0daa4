import NIOCore
import NIOSSL
import NIOTLS
import ProxyCore

/// Client side of a MySQL connection in the router, after TLS termination: hands what the
/// client sends to the session until the splice replaces it.
final class MySQLFrontendHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let session: MySQLSessionDriver
    private var context: ChannelHandlerContext?

    init(session: MySQLSessionDriver) {
        self.session = session
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session.clientReceived(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            session.clientLeft()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.clientLeft()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        session.clientLeft()
        context.close(promise: nil)
    }

    func send(_ bytes: ByteBuffer) -> EventLoopFuture<Void>? {
        context?.writeAndFlush(wrapOutboundOut(bytes))
    }

    /// Puts `handlers` (the glue, or the audit handler then the glue) after this handler, in
    /// order, and leaves the pipeline.
    func handOver(to handlers: any ChannelHandler...) throws {
        guard let context else { throw ChannelError.ioOnClosedChannel }
        var position: ChannelPipeline.SynchronousOperations.Position = .after(self)
        for handler in handlers {
            try context.pipeline.syncOperations.addHandler(handler, position: position)
            position = .after(handler)
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Database side of a MySQL connection in the router: hands the database's packets to the
/// session and reports its TLS handshake, until the splice replaces it.
final class MySQLBackendHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let session: MySQLSessionDriver
    private var finished = false

    init(session: MySQLSessionDriver) {
        self.session = session
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session.backendReceived(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            session.backendTLSEstablished()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished { session.backendFailed("the database closed the connection during login") }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !finished { session.backendFailed("\(error)") }
        context.close(promise: nil)
    }

    /// The splice took over: later events are no longer the session's.
    func finish() {
        finished = true
    }
}
