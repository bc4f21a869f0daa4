import NIOCore
import ProxyCore

/// Something the local proxy did, for an embedding application to show.
public enum LocalProxyEvent: Sendable {
    /// Listening on this address for this database.
    case listening(SocketAddress)
    /// A client connection was tunnelled to the router.
    case tunnelOpened(connection: UInt64, client: String, negotiatedProtocol: String?)
    /// A tunnelled connection ended; bytes from the client and from the router.
    case tunnelClosed(connection: UInt64, bytesFromClient: Int, bytesFromRouter: Int)
    /// A client connection was refused before it reached the database.
    case connectionFailed(connection: UInt64, client: String, reason: LocalProxyError)
    /// The proxy stopped.
    case stopped
}

/// Why a client connection could not be tunnelled.
public enum LocalProxyError: Error, Hashable, CustomStringConvertible {
    case certificate(IdentityError)
    case routerUnreachable(host: String, port: Int, reason: String)
    case tlsRefused(String)
    case handshakeTimeout
    /// The client broke its protocol's rules before anything was sent to the router.
    case clientProtocol(String)

    public var description: String {
        switch self {
        case .certificate(let error): error.description
        case .routerUnreachable(let host, let port, let reason): "cannot reach the router at \(host):\(port): \(reason)"
        case .tlsRefused(let reason): "the router refused the TLS connection: \(reason)"
        case .handshakeTimeout: "TLS handshake with the router timed out"
        case .clientProtocol(let reason): "refused the client: \(reason)"
        }
    }
}
