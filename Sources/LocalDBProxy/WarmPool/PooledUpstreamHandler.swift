import NIOCore
import NIOTLS
import ProxyCore

/// Last handler of a pooled router connection until a client takes it: reports the TLS
/// handshake to the pool (putting ping framing in place at once, so the router's pings are
/// dropped while it waits), holds what the router sends meanwhile (a MySQL greeting), and
/// reports the connection's end. `handOver(to:)` gives the connection to a tunnel.
final class PooledUpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// More than this from the router before any client spoke is not a database greeting.
    static let maxHeldBytes = 64 * 1024

    private enum State {
        case handshaking
        case waiting
        case handedOver
    }

    private let id: UInt64
    private let pool: WarmPool
    private let handshakeTimeout: TimeAmount
    private var state = State.handshaking
    private var held = HeldInbound()
    private var context: ChannelHandlerContext?
    private var timeout: Scheduled<Void>?
    /// The ALPN protocol the router chose.
    private(set) var negotiatedProtocol: String?

    init(id: UInt64, pool: WarmPool, handshakeTimeout: TimeAmount) {
        self.id = id
        self.pool = pool
        self.handshakeTimeout = handshakeTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let channel = context.channel
        timeout = context.eventLoop.scheduleTask(in: handshakeTimeout) { channel.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event, case .handshaking = state {
            timeout?.cancel()
            negotiatedProtocol = negotiated
            if let negotiated, ALPNProtocol(negotiated).isPing {
                do {
                    let operations = context.pipeline.syncOperations
                    try operations.addHandler(PingFramingHandler(), position: .before(self))
                } catch {
                    context.close(promise: nil)
                    return
                }
            }
            state = .waiting
            pool.handshook(id, channel: context.channel)
            return
        }
        if let event = event as? ChannelEvent, case .inputClosed = event {
            // The router is done with a connection nobody used yet.
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        held.hold(unwrapInboundIn(data))
        if held.byteCount > Self.maxHeldBytes { context.close(promise: nil) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {}

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .handshaking = state { pool.dialFailed(id, reason: "\(error)") }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        switch state {
        case .handshaking: pool.dialFailed(id, reason: "the router closed the connection during the TLS handshake")
        case .waiting: pool.lost(id)
        case .handedOver: break
        }
        context.fireChannelInactive()
    }

    /// Puts `next` after this handler, passes on what the router sent so far and leaves the
    /// pipeline.
    func handOver(to next: any ChannelHandler) throws {
        guard let context, case .waiting = state else { throw ChannelError.ioOnClosedChannel }
        try context.pipeline.syncOperations.addHandler(next, position: .after(self))
        state = .handedOver
        held.replay(from: context)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
