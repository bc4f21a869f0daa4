import NIOCore
import ProxyCore

/// Something the router did, for an embedding application or a test to observe.
public enum RouterEvent: Sendable {
    /// The router listens on this address.
    case listening(SocketAddress)
    /// A connection was sent to a destination.
    case routed(RoutedConnection)
    /// A connection was refused or dropped before it was spliced.
    case rejected(connection: UInt64, peer: String, reason: RouterRejection)
    /// The router stopped accepting connections.
    case stopped
}

/// A connection the router spliced to a backend.
public struct RoutedConnection: Sendable {
    public var connection: UInt64
    public var peer: String
    public var serverName: String?
    public var negotiatedProtocol: String?
    public var destination: HostAndPort
    public var database: String?
    public var user: String?
    public var pingFramed: Bool
    /// The serial number of the verified client certificate (hex), when there was one.
    public var certificateSerial: String? = nil
}
