/// A snapshot of a local proxy's warm pool of pre-handshaken router connections.
public struct WarmPoolStatus: Sendable, Hashable {
    /// Connections handshaken and waiting for a client.
    public var ready: Int
    /// Dials under way.
    public var dialing: Int
    /// What happened since the proxy started.
    public var counters: Counters

    /// Running totals.
    public struct Counters: Sendable, Hashable {
        /// Connections whose TLS handshake completed.
        public var dialed = 0
        /// Dials that failed (router unreachable, TLS refused, handshake timed out).
        public var dialFailures = 0
        /// Client connections that got a pooled connection.
        public var taken = 0
        /// Client connections that found the pool empty and dialled themselves.
        public var missed = 0
        /// Connections closed unused because they reached the maximum age.
        public var expired = 0
        /// Connections the router closed while they waited.
        public var lost = 0
        /// Connections closed unused because the certificate changed.
        public var drained = 0

        public init() {}
    }
}
