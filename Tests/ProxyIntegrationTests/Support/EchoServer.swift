import NIOCore
import NIOPosix
import NIOSSL

/// A TCP server on 127.0.0.1 standing in for a backend. `echo` returns every byte and closes its
/// output after the client's; `replyAfterEOF` answers "received N" only once the client has
/// closed its output, which shows that half-closure travelled end to end; `taggedEcho` answers
/// its tag before the first echoed byte, so a test can tell which of several backends it reached.
final class TestBackend: Sendable {
    enum Behaviour: Sendable {
        case echo, replyAfterEOF
        case taggedEcho(String)
        /// Terminates TLS itself, then echoes: a backend behind a passthrough route.
        case tlsEcho(NIOSSLContext)
    }

    let channel: Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: Channel) { self.channel = channel }

    static func start(_ behaviour: Behaviour = .echo) async throws -> TestBackend {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 512)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    switch behaviour {
                    case .echo: try channel.pipeline.syncOperations.addHandler(EchoHandler())
                    case .taggedEcho(let tag): try channel.pipeline.syncOperations.addHandler(EchoHandler(tag: tag))
                    case .replyAfterEOF: try channel.pipeline.syncOperations.addHandler(ReplyAfterEOFHandler())
                    case .tlsEcho(let context):
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                        try channel.pipeline.syncOperations.addHandler(EchoHandler())
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestBackend(channel: channel)
    }

    func stop() async {
        try? await channel.close().get()
    }
}

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    /// Written once, before the first echoed byte.
    private var tag: String?

    init(tag: String? = nil) {
        self.tag = tag
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let tag {
            self.tag = nil
            context.write(wrapOutboundOut(ByteBuffer(string: tag)), promise: nil)
        }
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            // Close the output only once every echoed byte is out: with the input already closed,
            // NIO turns close(mode: .output) into a full close that drops pending writes.
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in
                bound.value.close(mode: .output, promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

private final class ReplyAfterEOFHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var received = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "received \(received)"))).whenComplete { _ in
                bound.value.close(mode: .output, promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
