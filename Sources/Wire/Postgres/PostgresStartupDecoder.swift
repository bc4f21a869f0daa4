import NIOCore

/// Decodes the untyped packets a client may send first: SSLRequest, GSSENCRequest, CancelRequest
/// and StartupMessage. Lengths are checked before any bytes are waited for or copied.
public enum PostgresStartupDecoder {
    /// The shortest startup packet: length and code.
    public static let minimumLength = 8
    /// The longest startup packet PostgreSQL accepts (MAX_STARTUP_PACKET_LENGTH).
    public static let maximumLength = 10000

    /// Decodes one startup packet from the front of `buffer`, consuming it; nil when more bytes
    /// are needed (nothing is consumed then).
    /// Throws for a length outside 8...10000 (checked as soon as the 4 length bytes are here),
    /// an unknown request code or protocol major version, a fixed-size request of the wrong
    /// size, and malformed parameters: missing terminator, bytes after it, a name without a
    /// value, an empty name, invalid UTF-8, or a name given twice (a server would take the last
    /// `user`, a checker the first).
    public static func decode(_ buffer: inout ByteBuffer) throws(PostgresWireError) -> PostgresStartupPacket? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return nil }
        guard length >= minimumLength else {
            throw PostgresWireError("startup packet length \(length) is below the minimum of \(minimumLength)")
        }
        guard length <= maximumLength else {
            throw PostgresWireError("startup packet length \(length) exceeds the maximum of \(maximumLength)")
        }
        guard var packet = buffer.getSlice(at: buffer.readerIndex, length: Int(length)) else { return nil }
        packet.moveReaderIndex(forwardBy: 4)
        guard let code = packet.readInteger(as: Int32.self) else { return nil }
        let decoded = try decodeBody(code: code, body: &packet)
        buffer.moveReaderIndex(forwardBy: Int(length))
        return decoded
    }

    /// True when the first byte looks like a TLS handshake record (0x16): a direct-TLS
    /// ClientHello (PostgreSQL 17 `sslnegotiation=direct`). No valid startup packet starts with
    /// 0x16, since its first byte is the high byte of a length of at most 10000.
    public static func looksLikeTLS(_ buffer: ByteBuffer) -> Bool {
        buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == 0x16
    }

    private static func decodeBody(code: Int32, body: inout ByteBuffer) throws(PostgresWireError) -> PostgresStartupPacket {
        switch code {
        case PostgresRequestCode.ssl:
            try requireEmpty(body, what: "SSLRequest")
            return .sslRequest
        case PostgresRequestCode.gssEncryption:
            try requireEmpty(body, what: "GSSENCRequest")
            return .gssEncRequest
        case PostgresRequestCode.cancel:
            return .cancelRequest(try decodeCancel(&body))
        default:
            let version = PostgresProtocolVersion(code: code)
            if version.major == PostgresRequestCode.specialMajor {
                throw PostgresWireError("unknown startup request code \(version.major)/\(version.minor) (\(code))")
            }
            guard version.major == 3 else {
                throw PostgresWireError("unsupported frontend protocol \(version); only 3.x is supported")
            }
            let parameters = try PostgresStartupParametersParser.parse(&body)
            return .startup(PostgresStartupMessage(protocolVersion: version, parameters: parameters))
        }
    }

    private static func requireEmpty(_ body: ByteBuffer, what: String) throws(PostgresWireError) {
        guard body.readableBytes == 0 else {
            throw PostgresWireError("\(what) must be 8 bytes long, got \(8 + body.readableBytes)")
        }
    }

    private static func decodeCancel(_ body: inout ByteBuffer) throws(PostgresWireError) -> PostgresCancelRequest {
        guard let processID = body.readInteger(as: Int32.self) else {
            throw PostgresWireError("CancelRequest is too short to hold a process id")
        }
        let keyLength = body.readableBytes
        guard keyLength >= 1, keyLength <= PostgresCancelRequest.maximumSecretKeyLength else {
            throw PostgresWireError(
                "CancelRequest secret key is \(keyLength) bytes; expected 1 to \(PostgresCancelRequest.maximumSecretKeyLength)"
            )
        }
        return PostgresCancelRequest(processID: processID, secretKey: body.readBytes(length: keyLength) ?? [])
    }
}
