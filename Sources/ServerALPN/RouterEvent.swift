import NIOCore
import ProxyCore

/// Something the router did, for an embedding application or a test to observe.
public enum RouterEvent: Sendable {
    /// The router listens on this address.
    case listening(SocketAddress)
    /// A connection was sent to a destination.
    case routed(RoutedConnection)
    /// A connection was refused or dropped before it was spliced. `peer` is the socket's peer;
    /// `clientAddress` the original client (see `RoutedConnection.clientAddress`).
    case rejected(connection: UInt64, peer: String, reason: RouterRejection, clientAddress: HostAndPort?)
    /// A spliced connection closed: the bytes it carried each way.
    case closed(ClosedConnection)
    /// The router stopped accepting connections.
    case stopped
}

/// A connection the router spliced to a backend.
public struct RoutedConnection: Sendable {
    public var connection: UInt64
    /// The socket's peer: with a load balancer in front, the load balancer.
    public var peer: String
    /// The original client: the source of a PROXY protocol header from a trusted load balancer,
    /// otherwise the socket's peer (also after a LOCAL or UNKNOWN header). Nil only when the
    /// socket has no IP peer address.
    public var clientAddress: HostAndPort?
    public var serverName: String?
    public var negotiatedProtocol: String?
    public var destination: HostAndPort
    public var database: String?
    public var user: String?
    public var pingFramed: Bool
    /// The serial number of the verified client certificate (hex), when there was one.
    public var certificateSerial: String? = nil
    /// How long the TCP connection to the destination took to establish (TLS to a database
    /// not included); nil when it was not measured.
    public var backendDialDuration: Duration? = nil

    public init(
        connection: UInt64, peer: String, clientAddress: HostAndPort?, serverName: String?, negotiatedProtocol: String?,
        destination: HostAndPort, database: String?, user: String?, pingFramed: Bool, certificateSerial: String? = nil,
        backendDialDuration: Duration? = nil
    ) {
        self.connection = connection
        self.peer = peer
        self.clientAddress = clientAddress
        self.serverName = serverName
        self.negotiatedProtocol = negotiatedProtocol
        self.destination = destination
        self.database = database
        self.user = user
        self.pingFramed = pingFramed
        self.certificateSerial = certificateSerial
        self.backendDialDuration = backendDialDuration
    }
}

/// A spliced connection that closed.
public struct ClosedConnection: Sendable {
    /// What `RouterEvent.routed` reported for it.
    public var routed: RoutedConnection
    /// Bytes read from the client (after TLS) and passed to the destination by the splice.
    public var bytesFromClient: Int
    /// Bytes read from the destination and passed to the client by the splice.
    public var bytesToClient: Int
    /// From the splice to the close of the client's connection.
    public var duration: Duration

    public init(routed: RoutedConnection, bytesFromClient: Int, bytesToClient: Int, duration: Duration) {
        self.routed = routed
        self.bytesFromClient = bytesFromClient
        self.bytesToClient = bytesToClient
        self.duration = duration
    }
}
