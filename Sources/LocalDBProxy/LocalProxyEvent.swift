import Foundation
import NIOCore
import ProxyCore

/// Something the local proxy did, for an embedding application to show or count.
public enum LocalProxyEvent: Sendable {
    /// Listening on this address for this database.
    case listening(SocketAddress)
    /// A client connection was tunnelled to the router.
    case connectionOpened(ConnectionOpened)
    /// A tunnelled connection ended.
    case connectionClosed(ConnectionClosed)
    /// A client connection was refused before it reached the database (told in the client's
    /// protocol where it has a way).
    case connectionFailed(connection: UInt64, client: String, reason: LocalProxyError)
    /// The certificate expires within the warning window.
    case certificateExpiring(notAfter: Date, remaining: Duration)
    /// The certificate has expired: new connections are refused until it is renewed.
    case certificateExpired(notAfter: Date)
    /// New certificate material is in use for new connections.
    case certificateReloaded(notAfter: Date, serialNumber: String)
    /// `stop` began: no new connections; these are still open.
    case draining(openConnections: Int)
    /// The proxy stopped.
    case stopped

    /// A tunnel that opened.
    public struct ConnectionOpened: Sendable, Hashable {
        public var connection: UInt64
        public var client: String
        public var negotiatedProtocol: String?
        /// From accepting the client to the router's TLS handshake completing (or to taking a
        /// pooled connection).
        public var dialDuration: Duration
        /// The router connection came from the warm pool.
        public var pooled: Bool

        public init(connection: UInt64, client: String, negotiatedProtocol: String?, dialDuration: Duration, pooled: Bool = false) {
            self.pooled = pooled
            self.connection = connection
            self.client = client
            self.negotiatedProtocol = negotiatedProtocol
            self.dialDuration = dialDuration
        }
    }

    /// A tunnel that ended.
    public struct ConnectionClosed: Sendable, Hashable {
        public var connection: UInt64
        public var bytesFromClient: Int
        public var bytesFromRouter: Int
        /// From accepting the client to the end.
        public var duration: Duration

        public init(connection: UInt64, bytesFromClient: Int, bytesFromRouter: Int, duration: Duration) {
            self.connection = connection
            self.bytesFromClient = bytesFromClient
            self.bytesFromRouter = bytesFromRouter
            self.duration = duration
        }
    }
}

/// Why a client connection could not be tunnelled.
public enum LocalProxyError: Error, Hashable, CustomStringConvertible {
    case certificate(IdentityError)
    case routerUnreachable(host: String, port: Int, reason: String)
    case tlsRefused(String)
    case handshakeTimeout
    /// The client broke its protocol's rules before anything was sent to the router.
    case clientProtocol(String)
    /// `maxConnections` client connections are already open.
    case tooManyConnections(limit: Int)

    public var description: String {
        switch self {
        case .certificate(let error): error.description
        case .routerUnreachable(let host, let port, let reason): "cannot reach the router at \(host):\(port): \(reason)"
        case .tlsRefused(let reason): "the router refused the TLS connection: \(reason)"
        case .handshakeTimeout: "TLS handshake with the router timed out"
        case .clientProtocol(let reason): "refused the client: \(reason)"
        case .tooManyConnections(let limit): "too many connections: the local proxy allows \(limit) at a time"
        }
    }

    /// A short stable name, for metrics labels and log fields.
    public var kind: String {
        switch self {
        case .certificate: "certificate"
        case .routerUnreachable: "router_unreachable"
        case .tlsRefused: "tls_refused"
        case .handshakeTimeout: "handshake_timeout"
        case .clientProtocol: "client_protocol"
        case .tooManyConnections: "max_connections"
        }
    }
}

/// A snapshot of a local proxy's state, for health checks.
public struct LocalProxyStatus: Sendable, Hashable {
    /// The listener is bound and new connections are accepted.
    public var listening: Bool
    /// `stop` began.
    public var draining: Bool
    public var openConnections: Int
    public var maxConnections: Int?

    /// Listening, not draining, and below the connection limit.
    public var isReady: Bool {
        listening && !draining && (maxConnections.map { openConnections < $0 } ?? true)
    }
}
