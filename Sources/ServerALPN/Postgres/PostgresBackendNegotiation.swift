import NIOCore
import WirePostgres

/// Opening a connection to a PostgreSQL server, free of I/O: with TLS on, an SSLRequest, then
/// the handshake on `S`; a server that answers `N` is refused, as libpq refuses it for the
/// same modes (no silent fall back to plain text).
struct PostgresBackendNegotiation {
    enum Action: Equatable {
        case readMore
        /// Write these bytes to the server.
        case send(ByteBuffer)
        /// Start TLS on the connection and call `tlsEstablished()` when it is up.
        case startTLS
        /// The connection is ready for the client's first packet.
        case ready
        case fail(String)
    }

    private enum State {
        case idle
        case awaitingSSLResponse
        case awaitingTLS
        case ready
        case failed
    }

    private var state = State.idle
    private let mode: DatabaseTLS.Mode

    /// Length 8, request code 80877103.
    static let sslRequest = ByteBuffer(bytes: [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F])

    init(mode: DatabaseTLS.Mode) {
        self.mode = mode
    }

    mutating func connected() -> Action {
        guard case .idle = state else { return .readMore }
        if mode == .disable {
            state = .ready
            return .ready
        }
        state = .awaitingSSLResponse
        return .send(Self.sslRequest)
    }

    mutating func received(_ bytes: ByteBuffer) -> Action {
        guard case .awaitingSSLResponse = state else {
            state = .failed
            return .fail("the database sent data before the connection was set up")
        }
        guard let answer = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) else { return .readMore }
        switch PostgresSSLResponse(rawValue: answer) {
        case .supported:
            // CVE-2021-23222: bytes after 'S' and before the handshake are not the server's.
            guard bytes.readableBytes == 1 else {
                state = .failed
                return .fail("the database sent unencrypted data after accepting TLS")
            }
            state = .awaitingTLS
            return .startTLS
        case .notSupported:
            state = .failed
            return .fail("the database does not accept TLS (it answered N to SSLRequest) but tls mode \(mode.rawValue) requires it")
        case nil:
            state = .failed
            let what = answer == UInt8(ascii: "E") ? "an error" : "byte \(answer)"
            return .fail("the database answered SSLRequest with \(what); it may not be PostgreSQL or may be too old")
        }
    }

    mutating func tlsEstablished() -> Action {
        guard case .awaitingTLS = state else { return .readMore }
        state = .ready
        return .ready
    }
}
