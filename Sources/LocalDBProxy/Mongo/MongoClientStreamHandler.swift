import NIOCore
import NIOSSL
import NIOTLS
import WireMongo

/// The first request's header of a MongoDB client connection, shared with the tunnel so that a
/// failure found later (expired certificate, router unreachable) can answer that request.
final class MongoFirstRequest {
    var header: MongoMessageHeader?
}

/// First handler of a MongoDB client connection: runs ``MongoClientStream`` on what the client
/// sends (local TLS on a ClientHello, header checks on every message), tells the tunnel once
/// the first request has begun, and stays in place as the header check while spliced.
final class MongoClientStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: MongoClientStream
    private let localTLS: NIOSSLContext?
    private let tunnel: Tunnel
    private let firstRequest: MongoFirstRequest
    private var preludeDone = false
    private var forwarded = false

    init(localTLS: NIOSSLContext?, tunnel: Tunnel, firstRequest: MongoFirstRequest) {
        self.localTLS = localTLS
        self.tunnel = tunnel
        self.firstRequest = firstRequest
        self.machine = MongoClientStream(localTLS: localTLS != nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { context.read() }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch machine.received(unwrapInboundIn(data)) {
        case .readMore:
            if !preludeDone { context.read() }
        case .startTLS(let replay):
            startTLS(context: context, replay: replay)
        case .forward(let bytes, let first):
            forwarded = true
            context.fireChannelRead(wrapInboundOut(bytes))
            if let first {
                firstRequest.header = first
                preludeDone = true
                context.fireChannelReadComplete()
                forwarded = false
                tunnel.preludeFinished(cancel: false)
            }
        case .fail(let reason, let reply, let request):
            fail(context: context, reason: reason, reply: reply, request: request)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if forwarded {
            forwarded = false
            context.fireChannelReadComplete()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !preludeDone, let event = event as? ChannelEvent, case .inputClosed = event {
            preludeDone = true
            tunnel.preludeFailed("the client closed the connection before its first request")
            context.close(promise: nil)
            return
        }
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
            machine.tlsEstablished()
            context.read()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !preludeDone {
            preludeDone = true
            tunnel.preludeFailed("local TLS with the client failed: \(error)")
        }
        context.close(promise: nil)
    }

    private func fail(context: ChannelHandlerContext, reason: String, reply: MongoErrorReply?, request: MongoMessageHeader?) {
        if !preludeDone {
            preludeDone = true
            tunnel.preludeFailed(reason)
        } else {
            tunnel.clientBrokeProtocol(reason)
        }
        guard let reply, let request else {
            context.close(promise: nil)
            return
        }
        let bytes = reply.encoded(replyingTo: request, requestID: 1)
        context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private func startTLS(context: ChannelHandlerContext, replay: ByteBuffer) {
        guard let localTLS else { return }
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: localTLS), position: .first)
        } catch {
            preludeDone = true
            tunnel.preludeFailed("cannot start local TLS: \(error)")
            context.close(promise: nil)
            return
        }
        // The handshake needs reads that no one else asks for; stop again once it is done.
        _ = context.channel.setOption(ChannelOptions.autoRead, value: true)
        context.pipeline.syncOperations.fireChannelRead(NIOAny(replay))
    }
}
