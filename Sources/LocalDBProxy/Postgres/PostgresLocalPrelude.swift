import NIOCore
import WirePostgres

/// The first packets of a PostgreSQL client on the local socket, free of I/O. Encryption
/// requests are answered locally (no round trip over the tunnel); the StartupMessage or
/// CancelRequest, with anything after it, is what travels to the router.
struct PostgresLocalPrelude {
    enum Action: Equatable {
        /// Read more bytes from the client.
        case readMore
        /// Write these bytes to the client, then call `step()` again.
        case reply(ByteBuffer)
        /// Write `reply` ('S'), then start TLS on the local socket and call `tlsEstablished()`.
        case startTLS(reply: ByteBuffer)
        /// Start TLS on the local socket and feed it these bytes (a ClientHello sent directly).
        case startDirectTLS(replay: ByteBuffer)
        /// The prelude is over: send these bytes (the packet and anything after it) upstream.
        case forward(ByteBuffer, Outcome)
        /// Send the error to the client and close.
        case fail(PostgresErrorResponse)
    }

    enum Outcome: Equatable {
        case startup(PostgresStartupMessage)
        case cancel
    }

    private enum State {
        case awaitingPacket
        case awaitingTLS
        case done
    }

    private var state = State.awaitingPacket
    private var buffer = ByteBuffer()
    private var answeredSSL = false
    private var answeredGSS = false
    private var encrypted = false
    private let localTLS: Bool

    init(localTLS: Bool) {
        self.localTLS = localTLS
    }

    /// Bytes from the client (decrypted once local TLS is on).
    mutating func received(_ bytes: ByteBuffer) -> Action {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
        return step()
    }

    /// The local TLS handshake completed: the StartupMessage comes next, encrypted.
    mutating func tlsEstablished() -> Action {
        guard case .awaitingTLS = state else { return .readMore }
        encrypted = true
        state = .awaitingPacket
        return step()
    }

    /// Decides what to do with the bytes buffered so far.
    mutating func step() -> Action {
        guard case .awaitingPacket = state else { return .readMore }
        if !encrypted, !answeredSSL, !answeredGSS, PostgresStartupDecoder.looksLikeTLS(buffer) {
            guard localTLS else {
                return fail(.protocolViolation, "the client started TLS directly (sslnegotiation=direct) but this local proxy has no local TLS",
                            hint: "connect with sslnegotiation=postgres, or start the proxy with --local-tls")
            }
            state = .awaitingTLS
            let replay = buffer
            buffer.clear()
            return .startDirectTLS(replay: replay)
        }
        let packet: PostgresStartupPacket?
        let packetStart = buffer
        do {
            packet = try PostgresStartupDecoder.decode(&buffer)
        } catch {
            return fail(.protocolViolation, "invalid startup packet: \(error.message)")
        }
        guard let packet else { return .readMore }
        switch packet {
        case .sslRequest:
            guard !answeredSSL, !encrypted else { return fail(.protocolViolation, "SSLRequest sent twice") }
            answeredSSL = true
            guard localTLS else { return .reply(Self.answer(.notSupported)) }
            // CVE-2021-23214: nothing the client sent before the handshake may be used.
            guard buffer.readableBytes == 0 else {
                return fail(.protocolViolation, "received unencrypted data after SSLRequest")
            }
            state = .awaitingTLS
            return .startTLS(reply: Self.answer(.supported))
        case .gssEncRequest:
            guard !answeredGSS, !encrypted else { return fail(.protocolViolation, "GSSENCRequest sent twice") }
            answeredGSS = true
            return .reply(Self.answer(.notSupported))
        case .cancelRequest:
            state = .done
            return .forward(packetStart, .cancel)
        case .startup(let message):
            state = .done
            return .forward(packetStart, .startup(message))
        }
    }

    private mutating func fail(_ code: String, _ message: String, hint: String? = nil) -> Action {
        state = .done
        return .fail(PostgresErrorResponse(severity: .fatal, sqlState: code, message: message, hint: hint))
    }

    private static func answer(_ response: PostgresSSLResponse) -> ByteBuffer {
        ByteBuffer(bytes: [response.rawValue])
    }
}

extension String {
    fileprivate static let protocolViolation = PostgresSQLState.protocolViolation
}
