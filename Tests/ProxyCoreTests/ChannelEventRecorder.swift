import NIOCore
import NIOEmbedded

/// Records what passes through a pipeline position, as short strings, and passes it on.
final class ChannelEventRecorder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private(set) var events: [String] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        events.append("in \(String(buffer: unwrapInboundIn(data)))")
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        events.append("in complete")
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            events.append("in inputClosed")
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        events.append("write \(String(buffer: unwrapOutboundIn(data)))")
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        events.append("flush")
        context.flush()
    }

    func read(context: ChannelHandlerContext) {
        events.append("read")
        context.read()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        events.append("close \(mode)")
        context.close(mode: mode, promise: promise)
    }

    func removeAll() { events.removeAll() }
}

/// Two connected EmbeddedChannels on one event loop, as the glue requires.
struct ChannelPair {
    let loop = EmbeddedEventLoop()
    let left: EmbeddedChannel
    let right: EmbeddedChannel

    init() throws {
        left = EmbeddedChannel(loop: loop)
        right = EmbeddedChannel(loop: loop)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        try left.connect(to: address).wait()
        try right.connect(to: address).wait()
    }
}
