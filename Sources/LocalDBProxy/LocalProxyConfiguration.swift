import NIOCore
import ProxyCore

/// Everything a `LocalProxy` needs.
public struct LocalProxyConfiguration: Sendable {
    /// The router's address.
    public var routerHost: String
    public var routerPort: Int
    /// The server name sent to the router; defaults to `routerHost` (none when it is an IP address).
    public var serverName: String?
    /// The user's certificate (with RouteToDatabase), its key, and the CA that signs the router's
    /// certificate.
    public var tls: TLSMaterial
    /// Skip verification of the router's certificate.
    public var insecure: Bool
    /// Where to listen: `127.0.0.1` and port 0 (any free port) by default.
    public var listenHost: String
    public var listenPort: Int
    public var timeouts: ProxyTimeouts
    /// The MySQL server version to announce in the ALPN offer, when known.
    public var mysqlServerVersion: String?
    /// Certificate and key for TLS between the database client and this proxy (PostgreSQL:
    /// answers SSLRequest with `S`, and accepts TLS sent directly). Nil: clients connect in
    /// plain text on the local socket, and SSLRequest is answered `N`.
    public var localTLS: TLSMaterial?
    /// Listen on this unix domain socket instead of TCP (for PostgreSQL clients name it
    /// `DIR/.s.PGSQL.<port>`, so `psql -h DIR -p <port>` finds it).
    public var unixSocketPath: String?
    /// File mode of the unix socket: owner only by default.
    public var unixSocketMode: UInt16 = 0o600
    /// The database protocol to speak; nil: the one the certificate names (RouteToDatabase.Protocol).
    public var databaseProtocol: DatabaseProtocol?
    /// At most this many client connections at a time; more are refused in the client's own
    /// protocol (nil: no limit).
    public var maxConnections: Int?
    /// Where renewed certificates come from while the proxy runs (`tls` is the first).
    public var identitySource: LocalProxyIdentitySource = .fixed
    /// How often certificate files are checked for changes and expiry is evaluated.
    public var certificateCheckInterval: Duration = .seconds(2)
    /// A warning (log line and event) this long before the certificate expires; a provider
    /// source is asked for new material from then on.
    public var expiryWarning: Duration = .seconds(600)
    /// Under swift-service-lifecycle, how long open connections may finish after graceful
    /// shutdown begins.
    public var shutdownDrainTime: Duration = .seconds(5)
    /// Keep this many mutual-TLS connections to the router handshaken ahead of need, so a new
    /// client skips the TCP and TLS set-up (0: none, every client dials). They are spread over
    /// the event loops, refilled in the background, and closed unused at `warmPoolMaxAge` or
    /// when the certificate changes.
    public var warmPool: Int = 0
    /// A pooled connection older than this is closed unused. It must stay below the router's
    /// login timeout (60 s by default), which runs from the TLS handshake; for MySQL the router
    /// opens the database connection at once, so also below the database's connect timeout
    /// (MariaDB: 10 s). Nil: `defaultWarmPoolMaxAge(for:)`.
    public var warmPoolMaxAge: Duration?

    public init(
        routerHost: String, routerPort: Int, tls: TLSMaterial, serverName: String? = nil, insecure: Bool = false,
        listenHost: String = "127.0.0.1", listenPort: Int = 0, timeouts: ProxyTimeouts = .init(),
        mysqlServerVersion: String? = nil, localTLS: TLSMaterial? = nil, unixSocketPath: String? = nil
    ) {
        self.localTLS = localTLS
        self.unixSocketPath = unixSocketPath
        self.routerHost = routerHost
        self.routerPort = routerPort
        self.tls = tls
        self.serverName = serverName
        self.insecure = insecure
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.timeouts = timeouts
        self.mysqlServerVersion = mysqlServerVersion
    }

    /// The maximum age of pooled connections when none is configured: 8 s for MySQL (below
    /// MariaDB's 10 s connect timeout), 20 s otherwise (a third of the router's login timeout).
    public static func defaultWarmPoolMaxAge(for databaseProtocol: DatabaseProtocol) -> Duration {
        databaseProtocol == .mysql ? .seconds(8) : .seconds(20)
    }

    /// The SNI to send: the explicit server name, else the router host unless it is an IP address.
    var effectiveServerName: String? {
        if let serverName, !serverName.isEmpty { return serverName }
        return HostAndPort(host: routerHost, port: routerPort).tlsServerName
    }
}
