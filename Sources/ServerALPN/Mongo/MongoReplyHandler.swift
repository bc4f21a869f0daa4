import NIOCore
import NIOTLS
import WireMongo

/// Database side of a MongoDB connection in the router: reports the TLS handshake and early
/// failures to the session, checks each reply's header while passing it on whole, and reads
/// the server's maxMessageSizeBytes from its hello reply to raise the request limit.
final class MongoReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Replies larger than this are not searched for maxMessageSizeBytes (hello replies are small).
    private static let helloReplyBound = 1 << 20

    /// Held until the splice or a failure settles the session (the driver has no other owner
    /// while the database's TLS handshake runs).
    private var session: MongoSessionDriver?
    private var limits = MongoMessageLimits()
    private var pending: ByteBuffer?
    private var learnedMaximum = false
    private var forwarded = false
    private var spliced = false
    /// Told the request side's new limit when the database announces one.
    var onMaximumLength: ((Int) -> Void)?

    init(session: MongoSessionDriver) {
        self.session = session
    }

    /// The client side is in place: from now on failures end the connection like any splice.
    func markSpliced() {
        spliced = true
        session = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if pending == nil {
            pending = bytes
        } else {
            pending?.writeBuffer(&bytes)
        }
        while let buffer = pending, let header = MongoMessageHeader.peek(in: buffer) {
            do {
                try limits.validate(header)
            } catch {
                pending = nil
                session?.backendBrokeProtocol("\(error)")
                context.close(promise: nil)
                return
            }
            guard buffer.readableBytes >= Int(header.messageLength),
                  let message = pending?.readSlice(length: Int(header.messageLength))
            else { break }
            if !learnedMaximum, message.readableBytes <= Self.helloReplyBound { learnMaximum(header, message) }
            forwarded = true
            context.fireChannelRead(wrapInboundOut(message))
        }
        if let buffer = pending {
            if buffer.readableBytes == 0 {
                pending = nil
            } else if buffer.readerIndex > 1 << 20 {
                pending?.discardReadBytes()
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if forwarded {
            forwarded = false
            context.fireChannelReadComplete()
        }
    }

    private func learnMaximum(_ header: MongoMessageHeader, _ message: ByteBuffer) {
        let body = message.getSlice(at: message.readerIndex + MongoMessageHeader.size,
                                    length: message.readableBytes - MongoMessageHeader.size) ?? ByteBuffer()
        guard let maximum = try? MongoCommandReader.maxMessageSize(inReply: MongoMessage(header: header, body: body), limits: limits),
              maximum > 0
        else { return }
        learnedMaximum = true
        let length = max(maximum, MongoMessageLimits.defaultMaximumLength)
        limits.maximumLength = length
        onMaximumLength?(length)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            session?.backendReady()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !spliced { session?.backendFailed("the database closed the connection") }
        session = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !spliced { session?.backendFailed("\(error)") }
        session = nil
        context.close(promise: nil)
    }
}
