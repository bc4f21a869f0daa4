import NIOCore
import NIOPosix

extension ClientBootstrap {
    /// Connects to `address`. An IP literal is connected to directly; only a name goes through
    /// NIO's resolver (getaddrinfo on another thread, then Happy Eyeballs over its answers).
    /// Each connection through the chain dials once in each process, so the resolver's thread
    /// hop is worth skipping when there is nothing to resolve.
    public func dial(_ address: HostAndPort) -> EventLoopFuture<Channel> {
        if let socketAddress = address.ipSocketAddress {
            return connect(to: socketAddress)
        }
        return connect(host: address.host, port: address.port)
    }
}

extension HostAndPort {
    /// The socket address when `host` is an IPv4 or IPv6 literal; nil for a name.
    public var ipSocketAddress: SocketAddress? {
        try? SocketAddress(ipAddress: host, port: port)
    }

    /// The host as a TLS server name (SNI, certificate check): nil for an IP literal, which SNI
    /// may not carry.
    public var tlsServerName: String? {
        ipSocketAddress == nil ? host : nil
    }
}
