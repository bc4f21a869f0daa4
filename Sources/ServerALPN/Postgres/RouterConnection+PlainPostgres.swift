import NIOCore
import NIOSSL
import ProxyCore
import WirePostgres

extension RouterConnection {
    /// Performs the steps of a PostgreSQL client that connected without TLS and asks for it with
    /// an SSLRequest: answers, starts TLS inside the PostgreSQL protocol or refuses in it.
    func performPlainPostgres(_ action: RouterConnectionStateMachine.PlainPostgresAction, reader: ClientHelloReader?) {
        switch action {
        case .answer(let bytes):
            channel.writeAndFlush(bytes, promise: nil)
        case .startTLS:
            guard let reader else { return perform(.reject(.tlsFailed("no reader to start TLS after the SSLRequest"))) }
            logger.debug("PostgreSQL SSLRequest: starting TLS")
            // `S` leaves in plain text: it is written (synchronously, on the event loop) before the
            // TLS handler is in the pipeline. The SSLRequest had no bytes after it (the machine
            // checked), so the TLS handler sees exactly what comes after `S`.
            channel.writeAndFlush(ByteBuffer(bytes: [PostgresSSLResponse.supported.rawValue]), promise: nil)
            guard let context = shared.plainPostgresContext ?? shared.contexts.first?.database else {
                return perform(.reject(.tlsFailed("no TLS configuration for PostgreSQL clients")))
            }
            startTLS(context, after: reader, replaying: ByteBuffer(), step: " after the SSLRequest")
        case .startDirectTLS(let replay):
            guard let reader, let context = shared.plainPostgresContext else {
                return perform(.reject(.tlsFailed("no TLS configuration for PostgreSQL direct TLS")))
            }
            logger.debug("PostgreSQL direct TLS (ALPN postgresql)")
            startTLS(context, after: reader, replaying: replay, step: " (PostgreSQL direct TLS)")
        case .refuse(let error, let reason):
            var buffer = channel.allocator.buffer(capacity: 256)
            error.write(into: &buffer)
            channel.writeAndFlush(buffer).assumeIsolated().whenComplete { _ in
                self.perform(.reject(reason))
            }
        }
    }
}

extension TLSConfiguration {
    /// The router's TLS for PostgreSQL clients that ask for it with an SSLRequest: the database
    /// route's server certificate and user CA, the client certificate asked for and verified when
    /// given (a missing one is refused after the handshake, with an ErrorResponse psql shows), and
    /// ALPN `postgresql` (what libpq 17 offers) or none.
    static func plainPostgresServer(
        certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, clientCA: [NIOSSLCertificate]
    ) -> TLSConfiguration {
        routerServer(
            certificateChain: certificateChain, privateKey: privateKey, clientCA: clientCA,
            requireClientCertificate: false, applicationProtocols: DatabaseProtocol.postgres.localTLSApplicationProtocols)
    }
}
