import NIOCore
import ProxyCore
import WirePostgres

/// Router side of a PostgreSQL connection, after TLS termination (and ping framing): runs
/// `PostgresFrontendPrelude`, holds what arrives while the database is being reached, then
/// gives way to the splice.
final class PostgresFrontendHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var prelude: PostgresFrontendPrelude
    private let connection: RouterConnection
    private let database: DatabaseRoute?
    private let refusal: RouterRejection?
    private var held = HeldInbound()
    private var context: ChannelHandlerContext?
    private var connecting = false

    /// `database`: where the connection goes once admitted; nil with `refusal`, the reason the
    /// router already refused it (told to the client in answer to its first packet).
    init(prelude: PostgresFrontendPrelude, connection: RouterConnection, database: DatabaseRoute?, refusal: RouterRejection? = nil) {
        self.prelude = prelude
        self.connection = connection
        self.database = database
        self.refusal = refusal
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if connecting {
            held.hold(unwrapInboundIn(data))
        } else {
            perform(prelude.received(unwrapInboundIn(data)), context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if connecting, held.holdIfInputClosed(event) { return }
        if let event = event as? ChannelEvent, case .inputClosed = event {
            // The client left before its startup packet was complete.
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.tlsFailed(error)
        context.close(promise: nil)
    }

    private func perform(_ action: PostgresFrontendPrelude.Action, context: ChannelHandlerContext) {
        switch action {
        case .readMore:
            break
        case .reply(let bytes):
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
            perform(prelude.step(), context: context)
        case .connect(let first, let outcome):
            guard let database else { return context.close(promise: nil) }
            connecting = true
            _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
            connection.connectPostgres(database: database, first: first, outcome: outcome, frontend: self)
        case .fail(let error):
            connecting = true
            send(error).assumeIsolated().whenComplete { [connection, refusal] _ in
                connection.perform(refusal.map { .reject($0) } ?? connection.machine.refused(.databaseRefused(error.message)))
            }
        }
    }

    /// Writes an ErrorResponse to the client.
    func send(_ error: PostgresErrorResponse) -> EventLoopFuture<Void> {
        guard let context else { return connection.channel.eventLoop.makeSucceededVoidFuture() }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        error.write(into: &buffer)
        return context.writeAndFlush(wrapOutboundOut(buffer))
    }

    /// Puts `handlers` (the glue, or the audit handler then the glue) after this handler, in
    /// order, passes on what was held and leaves the pipeline.
    func handOver(to handlers: any ChannelHandler...) throws {
        guard let context else { throw ChannelError.ioOnClosedChannel }
        var position: ChannelPipeline.SynchronousOperations.Position = .after(self)
        for handler in handlers {
            try context.pipeline.syncOperations.addHandler(handler, position: position)
            position = .after(handler)
        }
        held.replay(from: context)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
