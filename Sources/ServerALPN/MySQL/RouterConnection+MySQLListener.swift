import NIOCore
import NIOSSL
import ProxyCore
import WireMySQL

extension RouterConnection {
    /// Sends the router's greeting to a client of `mysql_listen_addr` (MySQL servers speak first).
    func greetMySQLClient() {
        var generator = SystemRandomNumberGenerator()
        let greeting = MySQLListenerHandshake.greeting(
            connectionID: UInt32(truncatingIfNeeded: id), scramble: MySQLListenerHandshake.makeScramble(using: &generator),
            serverVersion: shared.mysqlServerVersion)
        channel.writeAndFlush(greeting, promise: nil)
    }

    /// Performs the decision on a MySQL client's first packet: TLS in band, or an ERR packet.
    func performMySQLListener(_ decision: MySQLListenerHandshake.Decision, reader: ClientHelloReader?) {
        switch decision {
        case .startTLS(let replay):
            guard let reader, let context = shared.mysqlContext else {
                return perform(.reject(.tlsFailed("no TLS configuration for mysql_listen_addr")))
            }
            logger.debug("MySQL SSLRequest: starting TLS")
            // A non-empty `replay` is the start of the client's TLS handshake, sent with the SSLRequest.
            startTLS(context, after: reader, replaying: replay, step: " after the SSLRequest")
        case .refuse(let packet, let reason):
            channel.writeAndFlush(packet).assumeIsolated().whenComplete { _ in
                self.perform(.reject(reason))
            }
        }
    }

    /// Tells a MySQL client on `mysql_listen_addr` why it was refused after TLS: the ERR packet
    /// answers its HandshakeResponse41, so the client reads it instead of a reset.
    func refuseMySQL(_ reason: RouterRejection, session: TLSSessionHandler) {
        do {
            try session.handOver(to: MySQLListenerRefusalHandler(connection: self, reason: reason))
        } catch {
            perform(.reject(reason))
        }
    }
}

/// Waits for a refused client's HandshakeResponse41 (bounded), answers it with the ERR packet
/// and closes.
final class MySQLListenerRefusalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let connection: RouterConnection
    private let reason: RouterRejection
    private var received = ByteBuffer()
    private var decoder = MySQLPacketDecoder(maximumPayload: MySQLListenerHandshake.maximumFirstPacket)
    private var answered = false
    private var timer: Scheduled<Void>?

    init(connection: RouterConnection, reason: RouterRejection) {
        self.connection = connection
        self.reason = reason
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        // A client that sends nothing still hears why, after a moment.
        timer = context.eventLoop.scheduleTask(in: .seconds(5)) {
            bound.value.handler.answer(context: bound.value.context, sequence: 3)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
        do {
            guard let packet = try decoder.decode(&received) else { return }
            answer(context: context, sequence: packet.sequenceID &+ 1)
        } catch {
            answer(context: context, sequence: 3)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if !answered {
            answered = true
            connection.perform(.reject(reason))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func answer(context: ChannelHandlerContext, sequence: UInt8) {
        guard !answered else { return }
        answered = true
        timer?.cancel()
        let packet = MySQLListenerHandshake.refusal(reason, sequence: sequence)
        let connection = connection
        let reason = reason
        context.writeAndFlush(wrapOutboundOut(packet)).assumeIsolated().whenComplete { _ in
            connection.perform(.reject(reason))
        }
    }
}

extension TLSConfiguration {
    /// The router's TLS for MySQL clients after their SSLRequest on `mysql_listen_addr`: the
    /// server certificate and user CA, the client certificate asked for and verified when given
    /// (a missing one is refused with an ERR packet), no ALPN.
    static func mysqlListenerServer(
        certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, clientCA: [NIOSSLCertificate]
    ) -> TLSConfiguration {
        routerServer(
            certificateChain: certificateChain, privateKey: privateKey, clientCA: clientCA,
            requireClientCertificate: false, applicationProtocols: [])
    }

    /// The router's TLS on `mongo_listen_addr`: TLS from the first byte, a client certificate
    /// issued by the user CA required, no ALPN (MongoDB drivers offer none).
    static func mongoListenerServer(
        certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, clientCA: [NIOSSLCertificate]
    ) -> TLSConfiguration {
        routerServer(
            certificateChain: certificateChain, privateKey: privateKey, clientCA: clientCA,
            requireClientCertificate: true, applicationProtocols: [])
    }
}
