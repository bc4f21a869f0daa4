import NIOCore

/// The first packet a client sends: the only packets with no type byte.
public enum PostgresStartupPacket: Sendable, Hashable {
    /// SSLRequest (code 80877103): the client asks for TLS; answer with one `PostgresSSLResponse` byte.
    case sslRequest
    /// GSSENCRequest (code 80877104): the client asks for GSSAPI encryption.
    case gssEncRequest
    /// CancelRequest (code 80877102).
    case cancelRequest(PostgresCancelRequest)
    /// StartupMessage, protocol 3.x.
    case startup(PostgresStartupMessage)

    /// Writes the whole packet.
    public func write(into buffer: inout ByteBuffer) {
        switch self {
        case .sslRequest:
            buffer.writeInteger(Int32(8))
            buffer.writeInteger(PostgresRequestCode.ssl)
        case .gssEncRequest:
            buffer.writeInteger(Int32(8))
            buffer.writeInteger(PostgresRequestCode.gssEncryption)
        case .cancelRequest(let request):
            request.write(into: &buffer)
        case .startup(let message):
            message.write(into: &buffer)
        }
    }
}
