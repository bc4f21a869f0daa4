import Foundation
import Logging
import NIOCore
import NIOSSL

/// Sits on a spliced database connection's client channel, just before the glue: records
/// `session.start` when added and `session.end` when the channel closes, counts the bytes each
/// way, and with statements on feeds what the client sends to the protocol's statement tap.
/// Bytes pass through untouched; a tap that loses the framing just stops.
final class AuditSessionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let log: AuditLog
    private let session: AuditSession
    private var tap: AuditStatementTap?
    private let logger: Logger
    private let started = NIODeadline.now()
    private var bytesFromClient = 0
    private var bytesToClient = 0
    private var reason: AuditEndReason?
    private var ended = false

    init(log: AuditLog, session: AuditSession, tap: AuditStatementTap?, logger: Logger) {
        self.log = log
        self.session = session
        self.tap = tap
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        log.record(.sessionStart(time: Date(), session: session))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
    }

    /// Client bytes that reached the database before this handler was in place (MySQL commands
    /// sent before the login's OK).
    func clientSentBeforeSplice(_ bytes: ByteBuffer) {
        observeFromClient(bytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        observeFromClient(unwrapInboundIn(data))
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        bytesToClient += unwrapOutboundIn(data).readableBytes
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event, reason == nil { reason = .clientClosed }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if reason == nil {
            // A client that drops TCP without TLS close_notify has still just left.
            if let tlsError = error as? NIOSSLError, case .uncleanShutdown = tlsError {
                reason = .clientClosed
            } else {
                reason = .error("\(error)")
            }
        }
        context.fireErrorCaught(error)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if reason == nil { reason = .databaseClosed }
        context.close(mode: mode, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if reason == nil { reason = .clientClosed }
        end()
        context.fireChannelInactive()
    }

    private func observeFromClient(_ bytes: ByteBuffer) {
        bytesFromClient += bytes.readableBytes
        guard var current = tap else { return }
        tap = nil
        let statements = current.feed(bytes)
        if current.isStopped {
            logger.debug("audit statement tap stopped: the client stream broke the protocol's framing")
        } else {
            tap = current
        }
        guard !statements.isEmpty else { return }
        let now = Date()
        for statement in statements {
            log.record(.statement(time: now, connection: session.connection, databaseProtocol: session.databaseProtocol, statement: statement))
        }
    }

    private func end() {
        guard !ended else { return }
        ended = true
        let elapsed = NIODeadline.now() - started
        log.record(.sessionEnd(
            time: Date(), session: session, bytesFromClient: bytesFromClient, bytesToClient: bytesToClient,
            duration: Double(elapsed.nanoseconds) / 1e9, reason: reason ?? .clientClosed))
    }
}
