import NIOCore
import ProxyCore
import WirePostgres

/// What the router tells a PostgreSQL client that connects straight to it (psql with
/// `sslcert`/`sslkey`/`sslrootcert`, no local proxy) and how it recognises one, free of I/O.
enum PlainPostgresSniffing {
    /// Whether the first bytes can only be a PostgreSQL startup packet: its length (8...10000)
    /// starts with a zero byte, while a TLS record starts with 0x16 and a PROXY protocol header
    /// with `P` (version 1) or `\r` (version 2).
    static func looksLikePostgres(_ buffer: ByteBuffer) -> Bool {
        buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == 0
    }

    /// Whether the first byte is a TLS handshake record's (0x16).
    static func looksLikeTLS(_ buffer: ByteBuffer) -> Bool {
        buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == 0x16
    }

    /// Whether a ClientHello is PostgreSQL 17's direct TLS: ALPN `postgresql` offered and no
    /// router protocol (a libpq client with `sslnegotiation=direct`).
    static func isDirectTLS(_ hello: ClientHello) -> Bool {
        let offered = hello.applicationProtocols
        return offered.contains(DatabaseProtocol.postgres.localTLSApplicationProtocols.first ?? "postgresql")
            && !offered.contains { ALPNProtocol($0).isDatabase }
    }

    /// The first bytes in hex, at most `limit` of them, for log lines.
    static func hexPrefix(_ buffer: ByteBuffer, limit: Int = 16) -> String {
        let bytes = buffer.getBytes(at: buffer.readerIndex, length: min(limit, buffer.readableBytes)) ?? []
        let text = bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
        return buffer.readableBytes > limit ? text + " ..." : text
    }

    static let connectHint =
        "Connect with sslmode=verify-full sslcert=USER.pem sslkey=USER-key.pem sslrootcert=HOST-CA.pem, or through dbproxy proxy."

    /// A StartupMessage in plain text.
    static func tlsRequired(user: String?) -> (PostgresErrorResponse, RouterRejection) {
        let who = user.map { " (user \"\($0)\")" } ?? ""
        let error = PostgresErrorResponse(
            severity: .fatal, sqlState: PostgresSQLState.invalidAuthorizationSpecification,
            message: "dbproxy router: TLS with a client certificate is required on this port",
            detail: "The client sent its startup packet\(who) without asking for TLS (sslmode=disable or allow).",
            hint: connectHint)
        return (error, .notTLS("PostgreSQL StartupMessage\(who) without TLS; TLS with a client certificate is required"))
    }

    /// Bytes after an SSLRequest or GSSENCRequest, sent before the answer: as PostgreSQL does,
    /// they are refused (they would otherwise count as if they had come over TLS).
    static func unencryptedData(after request: String) -> (PostgresErrorResponse, RouterRejection) {
        let message = "received unencrypted data after \(request)"
        let error = PostgresErrorResponse(severity: .fatal, sqlState: PostgresSQLState.protocolViolation, message: "dbproxy router: \(message)")
        return (error, .notTLS("PostgreSQL \(message)"))
    }

    /// A startup packet that cannot be decoded (length out of range, unknown request code or
    /// protocol version): the client is told, as it would be behind the TLS.
    static func invalidStartupPacket(_ reason: String, first buffer: ByteBuffer) -> (PostgresErrorResponse, RouterRejection) {
        let error = PostgresErrorResponse(
            severity: .fatal, sqlState: PostgresSQLState.protocolViolation, message: "dbproxy router: invalid startup packet: \(reason)")
        return (error, .notTLS("not a TLS ClientHello nor a PostgreSQL startup packet (\(reason)); first bytes \(hexPrefix(buffer))"))
    }

    static var secondGSSENCRequest: (PostgresErrorResponse, RouterRejection) {
        let message = "a second GSSENCRequest"
        let error = PostgresErrorResponse(severity: .fatal, sqlState: PostgresSQLState.protocolViolation, message: "dbproxy router: \(message)")
        return (error, .notTLS("PostgreSQL \(message)"))
    }

    /// A CancelRequest in plain text carries no certificate, so nothing says it may reach a
    /// database: the connection is closed (a client cancels over TLS, or through dbproxy proxy).
    static let cancelRefused =
        "PostgreSQL CancelRequest without TLS: no client certificate to check, so it is not forwarded"

    /// A certificate for a database of another protocol, presented by a PostgreSQL client.
    static func notPostgres(_ database: DatabaseRoute) -> String {
        "certificate names database service \"\(database.name)\", which speaks \(database.databaseProtocol.rawValue); "
            + "a PostgreSQL client (SSLRequest) reaches only PostgreSQL databases"
    }
}

extension PlainPostgresSniffing {
    /// Anything but a PostgreSQL startup packet on `postgres_listen_addr`.
    static func notPostgresListener(_ buffer: ByteBuffer) -> String {
        "postgres_listen_addr takes PostgreSQL clients (SSLRequest then TLS, or direct TLS with ALPN postgresql) only; first bytes \(hexPrefix(buffer))"
    }
}
