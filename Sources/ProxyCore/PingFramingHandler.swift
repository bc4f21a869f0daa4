import NIOCore

/// Ping framing for a `-ping` ALPN connection, in one pipeline step (so each read, write, flush
/// and read request of a spliced connection passes one handler, not one per task):
/// - inbound: frame headers are taken off and pings dropped; payload is passed on as it arrives,
///   never buffered to a whole frame, so a frame of any length costs no memory of its own;
/// - outbound: each write becomes one frame; a zero-byte write emits no frame (a zero length
///   would be a ping) but still travels down so its promise keeps write order;
/// - with a ping interval, a ping (four zero bytes, not framed again) goes out on that period
///   while the channel is active.
public final class PingFramingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private var parser = PingFrameParser()
    /// The start of a frame header (1 to 3 bytes) that a read ended in.
    private var partialHeader: ByteBuffer?
    private let pingInterval: TimeAmount?
    private var pingTask: RepeatedTask?

    /// How many pings this handler has sent.
    public private(set) var pingsSent = 0

    /// How many pings were read and dropped.
    public var pingsReceived: Int { parser.pingsReceived }

    /// - Parameter pingInterval: how often to send a ping; nil or zero sends none.
    public init(pingInterval: TimeAmount? = nil) {
        self.pingInterval = pingInterval
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        guard let interval = pingInterval, interval > .zero else { return }
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let boundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { task in
            let context = boundContext.value
            guard context.channel.isActive else {
                task.cancel()
                return
            }
            boundSelf.value.pingsSent += 1
            var ping = context.channel.allocator.buffer(capacity: 4)
            ping.writeInteger(UInt32(0))
            context.writeAndFlush(NIOAny(ping)).whenFailure { _ in task.cancel() }
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        pingTask?.cancel()
        pingTask = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var partial = partialHeader {
            partialHeader = nil
            partial.writeBuffer(&buffer)
            buffer = partial
        }
        while let payload = parser.nextPayload(from: &buffer) {
            context.fireChannelRead(wrapInboundOut(payload))
        }
        if buffer.readableBytes > 0 {
            // Less than a header is left (1 to 3 bytes): keep a copy, not the whole read buffer.
            var partial = context.channel.allocator.buffer(capacity: 4)
            partial.writeBuffer(&buffer)
            partialHeader = partial
        }
    }

    /// Payloads up to this size are copied behind their header into one buffer, so they leave in
    /// one TLS record; larger ones go as a header write and a payload write.
    static let coalesceLimit = 16 * 1024

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload = unwrapOutboundIn(data)
        let length = payload.readableBytes
        guard length > 0 else {
            context.write(data, promise: promise)
            return
        }
        if length <= Self.coalesceLimit {
            var frame = context.channel.allocator.buffer(capacity: 4 + length)
            frame.writeInteger(UInt32(length), endianness: .big)
            frame.writeImmutableBuffer(payload)
            context.write(wrapOutboundOut(frame), promise: promise)
        } else {
            var header = context.channel.allocator.buffer(capacity: 4)
            header.writeInteger(UInt32(truncatingIfNeeded: length), endianness: .big)  // ByteBuffer is at most UInt32.max bytes
            context.write(wrapOutboundOut(header), promise: nil)
            context.write(data, promise: promise)
        }
    }
}
