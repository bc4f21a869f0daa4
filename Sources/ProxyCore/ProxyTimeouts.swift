import NIOConcurrencyHelpers
import NIOCore

/// Deadlines shared by both ends of the tunnel.
public struct ProxyTimeouts: Sendable, Hashable {
    /// Reading the TLS ClientHello and completing the handshake.
    public var handshake: TimeAmount
    /// Connecting to a database or forward target.
    public var connect: TimeAmount
    /// From the TLS handshake to the splice on a database route whose protocol the router
    /// takes part in (the client's startup packet, the database's greeting and login), like
    /// PostgreSQL's authentication_timeout.
    public var login: TimeAmount

    public init(handshake: TimeAmount = .seconds(15), connect: TimeAmount = .seconds(30), login: TimeAmount = .seconds(60)) {
        self.handshake = handshake
        self.connect = connect
        self.login = login
    }
}

/// Hands out connection ids for log metadata; one counter per proxy instance.
public final class ConnectionIDs: Sendable {
    private let counter = NIOLockedValueBox<UInt64>(0)
    public init() {}
    public func next() -> UInt64 {
        counter.withLockedValue { value in
            value += 1
            return value
        }
    }
}
