/// The single byte a server answers to an SSLRequest or GSSENCRequest.
public enum PostgresSSLResponse: UInt8, Sendable, Hashable {
    /// `S`: go ahead with the TLS (or GSS) handshake.
    case supported = 0x53
    /// `N`: not supported; the client goes on in plain text or gives up.
    case notSupported = 0x4E
}
