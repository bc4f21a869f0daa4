import NIOCore

/// What a client sends after the greeting: a 32-byte SSLRequest (CLIENT_SSL set, nothing after
/// the filler) or a HandshakeResponse41.
public enum MySQLClientHandshake: Sendable, Hashable {
    case sslRequest(MySQLSSLRequest)
    case response(MySQLHandshakeResponse41)

    /// Classifies and parses the client's first payload. Throws for protocol-320 clients and
    /// malformed packets.
    public init(decoding payload: ByteBuffer) throws(MySQLWireError) {
        var copy = payload
        let prefix = try MySQLClientPrefix(reading: &copy)
        if copy.readableBytes == 0, prefix.capabilities.contains(.ssl) {
            self = .sslRequest(MySQLSSLRequest(
                capabilities: prefix.capabilities, maxPacketSize: prefix.maxPacketSize,
                characterSet: prefix.characterSet, mariaDBExtendedCapabilities: prefix.mariaDBExtendedCapabilities
            ))
        } else {
            self = .response(try MySQLHandshakeResponse41(decoding: payload))
        }
    }
}
