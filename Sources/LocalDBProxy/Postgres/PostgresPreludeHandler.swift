import NIOCore
import NIOSSL
import NIOTLS
import WirePostgres

/// First handler of a PostgreSQL client connection: runs `PostgresLocalPrelude`, answering
/// encryption requests locally and starting local TLS when configured, then passes the
/// StartupMessage (or CancelRequest) on to the tunnel and leaves the pipeline.
final class PostgresPreludeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: PostgresLocalPrelude
    private let localTLS: NIOSSLContext?
    private let tunnel: Tunnel
    private var finished = false

    init(localTLS: NIOSSLContext?, tunnel: Tunnel) {
        self.localTLS = localTLS
        self.tunnel = tunnel
        self.machine = PostgresLocalPrelude(localTLS: localTLS != nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { context.read() }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return context.fireChannelRead(data) }
        perform(machine.received(unwrapInboundIn(data)), context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if finished { context.fireChannelReadComplete() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !finished, let event = event as? ChannelEvent, case .inputClosed = event {
            // The client left before sending its first packet (psql does after an `N` it cannot accept).
            finished = true
            tunnel.preludeFailed("the client closed the connection before its startup packet")
            context.close(promise: nil)
            return
        }
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
            perform(machine.tlsEstablished(), context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        tunnel.preludeFailed("local TLS with the client failed: \(error)")
        context.close(promise: nil)
    }

    private func perform(_ action: PostgresLocalPrelude.Action, context: ChannelHandlerContext) {
        switch action {
        case .readMore:
            context.read()
        case .reply(let bytes):
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
            perform(machine.step(), context: context)
        case .startTLS(let reply):
            context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
            startTLS(context: context, replay: nil)
        case .startDirectTLS(let replay):
            startTLS(context: context, replay: replay)
        case .forward(let bytes, let outcome):
            finished = true
            context.fireChannelRead(wrapInboundOut(bytes))
            context.fireChannelReadComplete()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            tunnel.preludeFinished(cancel: outcome == .cancel)
        case .fail(let error):
            finished = true
            var buffer = context.channel.allocator.buffer(capacity: 128)
            error.write(into: &buffer)
            tunnel.preludeFailed(error.message)
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    private func startTLS(context: ChannelHandlerContext, replay: ByteBuffer?) {
        guard let localTLS else { return }
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: localTLS), position: .first)
        } catch {
            tunnel.preludeFailed("cannot start local TLS: \(error)")
            context.close(promise: nil)
            return
        }
        // The handshake needs reads that no one else asks for; stop again once it is done.
        _ = context.channel.setOption(ChannelOptions.autoRead, value: true)
        if let replay { context.pipeline.syncOperations.fireChannelRead(NIOAny(replay)) }
    }
}
