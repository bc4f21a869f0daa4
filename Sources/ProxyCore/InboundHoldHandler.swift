import NIOCore

/// Inbound bytes and end-of-input seen before a splice exists. NIO reads a socket to its end
/// when the peer closes its side even while `autoRead` is off, so anything that arrives while a
/// connection is being set up must be held here, then replayed in order.
public struct HeldInbound {
    private var buffers: [ByteBuffer] = []
    private var sawInputClosed = false

    public init() {}

    /// Bytes held so far.
    public private(set) var byteCount = 0

    public mutating func hold(_ buffer: ByteBuffer) {
        byteCount += buffer.readableBytes
        buffers.append(buffer)
    }

    /// Returns true when the event was end-of-input and is now held.
    public mutating func holdIfInputClosed(_ event: Any) -> Bool {
        guard let event = event as? ChannelEvent, case .inputClosed = event else { return false }
        sawInputClosed = true
        return true
    }

    /// Fires everything held to the handlers after `context`, in the order it arrived.
    public mutating func replay(from context: ChannelHandlerContext) {
        let pending = buffers
        buffers = []
        byteCount = 0
        for buffer in pending {
            context.fireChannelRead(NIOAny(buffer))
        }
        if !pending.isEmpty { context.fireChannelReadComplete() }
        if sawInputClosed {
            sawInputClosed = false
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
    }
}

/// First handler of an accepted connection that waits for its other end: holds what arrives
/// until `splice(with:)` puts the glue in place, then replays it and leaves the pipeline.
public final class InboundHoldHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    private var held = HeldInbound()
    private var context: ChannelHandlerContext?
    private var onActive: (() -> Void)?

    /// `onActive` runs once the channel is active (or at once if it already is): the place to
    /// start reaching the other end.
    public init(onActive: (() -> Void)? = nil) {
        self.onActive = onActive
    }

    /// Bytes held so far.
    public var heldBytes: Int { held.byteCount }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { runOnActive() }
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        runOnActive()
    }

    private func runOnActive() {
        let action = onActive
        onActive = nil
        action?()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        held.hold(unwrapInboundIn(data))
    }

    public func channelReadComplete(context: ChannelHandlerContext) {}

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !held.holdIfInputClosed(event) {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Adds `glue` after this handler, replays what was held into it and removes this handler.
    public func splice(with glue: GlueHandler) throws {
        guard let context else { throw ChannelError.ioOnClosedChannel }
        try context.pipeline.syncOperations.addHandler(glue, position: .after(self))
        held.replay(from: context)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
