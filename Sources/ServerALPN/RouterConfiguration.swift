import NIOCore
import NIOSSL
import ProxyCore

/// Everything a `Router` needs; build it in code or from a YAML file with `RouterConfigFile`.
public struct RouterConfiguration: Sendable {
    /// Where the router listens (port 0 picks a free port).
    public var listenAddress: HostAndPort
    /// The server certificate chain (leaf first) and its key: the first keypair, presented when
    /// the client sends no server name or one that no keypair's DNS names cover.
    public var certificateChain: [NIOSSLCertificate]
    public var privateKey: NIOSSLPrivateKey
    /// Further server keypairs, chosen by the ClientHello's server name against each leaf's DNS
    /// names (see `ServerKeypairChooser`).
    public var additionalKeypairs: [ServerKeypair] = []
    /// Auth servers by cluster, for routes whose action is `clusterAuth`.
    public var clusters: [ClusterAuthServer] = []
    /// CAs whose client certificates are accepted.
    public var clientCA: [NIOSSLCertificate]
    /// Configured routes, tried in order.
    public var routes: [Route]
    /// Databases reached through certificates that name them.
    public var databases: [DatabaseRoute]
    /// How often a ping is sent on `-ping` connections (zero: never).
    public var pingInterval: TimeAmount
    /// Whether `-ping` ALPN variants are offered at all.
    public var pingFraming: Bool
    public var timeouts: ProxyTimeouts
    /// Accept PROXY protocol headers from these load balancers (nil: from nobody; a header is
    /// then refused as not TLS).
    public var proxyProtocol: ProxyProtocolConfiguration?
    /// A second listener for PostgreSQL clients only (SSLRequest, then TLS with a client
    /// certificate): the v2 config's `postgres_listen_addr`; nil: none. The main port takes them too.
    public var postgresListenAddress: HostAndPort? = nil
    /// A listener for MySQL clients that log in with TLS and a client certificate (the router
    /// greets with CLIENT_SSL): the v2 config's `mysql_listen_addr`; nil: none.
    public var mysqlListenAddress: HostAndPort? = nil
    /// A listener for MongoDB clients, TLS from the first byte with a client certificate: the
    /// v2 config's `mongo_listen_addr`; nil: none.
    public var mongoListenAddress: HostAndPort? = nil
    /// The server version the greeting on `mysql_listen_addr` announces (`mysql_server_version`).
    public var mysqlServerVersion: String = "8.0.0-dbproxy"
    /// The audit log of database sessions (nil: none).
    public var audit: AuditConfiguration?
    /// Connections and new connections per second allowed per client address (`.none`: no limit).
    public var connectionLimits: ConnectionLimits = .none

    /// Every server keypair, the first one first.
    public var keypairs: [ServerKeypair] {
        [ServerKeypair(certificateChain: certificateChain, privateKey: privateKey)] + additionalKeypairs
    }

    public init(
        listenAddress: HostAndPort, certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey,
        clientCA: [NIOSSLCertificate], routes: [Route] = [], databases: [DatabaseRoute] = [],
        pingInterval: TimeAmount = .seconds(30), pingFraming: Bool = true, timeouts: ProxyTimeouts = .init(),
        proxyProtocol: ProxyProtocolConfiguration? = nil, audit: AuditConfiguration? = nil
    ) {
        self.listenAddress = listenAddress
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.clientCA = clientCA
        self.routes = routes
        self.databases = databases
        self.pingInterval = pingInterval
        self.pingFraming = pingFraming
        self.timeouts = timeouts
        self.proxyProtocol = proxyProtocol
        self.audit = audit
    }
}
