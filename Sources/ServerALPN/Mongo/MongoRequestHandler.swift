import Logging
import NIOCore
import WireMongo

/// Client side of a MongoDB connection in the router, after TLS termination: frames the
/// client's requests, lets ``MongoRequestPolicy`` decide each, answers refusals itself and
/// passes the rest on whole. Replies from the database pass outbound untouched.
///
/// When the database could not be reached it answers the first request with that reason and
/// closes: a driver shows a reply, not a reset.
final class MongoRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Bounds every request; raised when the database's hello says maxMessageSizeBytes.
    var limits = MongoMessageLimits()
    private let policy: MongoRequestPolicy
    private var logger: Logger
    private var pending: ByteBuffer?
    private var nextReplyID: Int32 = 1
    private var closing = false
    private var forwarded = false
    /// Set when the database is unreachable: the reply to the first request, then the end.
    private var unreachable: (reply: MongoErrorReply, reason: String)?
    /// Called once the connection is being closed by this handler, with the reason.
    var onClose: ((String) -> Void)?

    init(policy: MongoRequestPolicy, logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    /// From now on the first request is answered with `reply` and the connection closed.
    func answerWithFailure(_ reply: MongoErrorReply, reason: String) {
        unreachable = (reply, reason)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var bytes = unwrapInboundIn(data)
        if pending == nil {
            pending = bytes
        } else {
            pending?.writeBuffer(&bytes)
        }
        while !closing, let message = nextMessage(context: context) {
            handle(message, context: context)
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

    /// The next whole request in `pending`, or nil when more bytes are needed (or the stream
    /// is unusable, in which case the connection is being closed).
    private func nextMessage(context: ChannelHandlerContext) -> (header: MongoMessageHeader, bytes: ByteBuffer)? {
        guard let buffer = pending, let header = MongoMessageHeader.peek(in: buffer) else { return nil }
        do {
            try limits.validate(header)
        } catch {
            close(context: context, reason: "\(error)", reply: (MongoRequestPolicy.protocolError(error), header))
            return nil
        }
        guard buffer.readableBytes >= Int(header.messageLength),
              let bytes = pending?.readSlice(length: Int(header.messageLength))
        else { return nil }
        return (header, bytes)
    }

    private func handle(_ message: (header: MongoMessageHeader, bytes: ByteBuffer), context: ChannelHandlerContext) {
        if let unreachable {
            return close(context: context, reason: unreachable.reason, reply: (unreachable.reply, message.header))
        }
        guard policy.enforcesDatabase else { return forward(message.bytes, context: context) }
        let body = message.bytes.getSlice(
            at: message.bytes.readerIndex + MongoMessageHeader.size,
            length: message.bytes.readableBytes - MongoMessageHeader.size) ?? ByteBuffer()
        let decision: MongoRequestPolicy.Decision
        do {
            let summary = try MongoCommandReader.summary(of: MongoMessage(header: message.header, body: body), limits: limits)
            decision = policy.decide(summary)
            logger.trace("request", metadata: [
                "command": "\(summary.commandName ?? "-")", "db": "\(summary.database ?? "-")", "decision": "\(decision)",
            ])
        } catch {
            decision = MongoRequestPolicy.unreadable(error)
        }
        switch decision {
        case .forward:
            forward(message.bytes, context: context)
        case .refuse(let reply):
            logger.info("request refused", metadata: ["reason": "\(reply.message)"])
            context.writeAndFlush(wrapOutboundOut(reply.encoded(replyingTo: message.header, requestID: replyID())), promise: nil)
        case .close(let reason, let reply):
            close(context: context, reason: reason, reply: reply.map { ($0, message.header) })
        }
    }

    private func forward(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        forwarded = true
        context.fireChannelRead(wrapInboundOut(bytes))
    }

    private func replyID() -> Int32 {
        defer { nextReplyID = nextReplyID == .max ? 1 : nextReplyID + 1 }
        return nextReplyID
    }

    private func close(context: ChannelHandlerContext, reason: String, reply: (MongoErrorReply, MongoMessageHeader)?) {
        guard !closing else { return }
        closing = true
        pending = nil
        let onClose = onClose
        guard let (reply, request) = reply, request.opCode != .reply else {
            onClose?(reason)
            context.close(promise: nil)
            return
        }
        let bytes = reply.encoded(replyingTo: request, requestID: replyID())
        context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
            onClose?(reason)
            context.close(promise: nil)
        }
    }
}
