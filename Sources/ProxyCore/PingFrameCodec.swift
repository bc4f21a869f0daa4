import NIOCore

/// Removes ping framing from inbound bytes; pings are dropped.
public struct PingFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer
    private var parser = PingFrameParser()

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let payload = parser.nextPayload(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(payload))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// Adds ping framing to outbound bytes: each write becomes one frame. A zero-byte write emits no
/// frame (a zero length would be a ping) but still travels down so its promise keeps write order.
public final class PingFrameEncoder: ChannelOutboundHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Payloads up to this size are copied behind their header into one buffer, so they leave in
    /// one TLS record; larger ones go as a header write and a payload write.
    static let coalesceLimit = 16 * 1024

    public init() {}

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

/// Sends a ping (four zero bytes) every `interval` while the channel is active. Place it below
/// `PingFrameEncoder` (nearer the TLS handler) so pings are not framed again.
public final class PingSender: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let interval: TimeAmount
    private var task: RepeatedTask?
    public private(set) var pingsSent = 0

    public init(interval: TimeAmount) {
        self.interval = interval
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        guard interval > .zero else { return }
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        task = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { task in
            let context = loopBoundContext.value
            guard context.channel.isActive else {
                task.cancel()
                return
            }
            loopBoundSelf.value.pingsSent += 1
            var ping = context.channel.allocator.buffer(capacity: 4)
            ping.writeInteger(UInt32(0))
            context.writeAndFlush(NIOAny(ping)).whenFailure { _ in task.cancel() }
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
    }
}
