import ProxyCore

/// Whether a route admits connections without a client certificate.
public enum ClientCertificatePolicy: String, Sendable, Hashable {
    /// The TLS handshake fails without a certificate issued by the user CA.
    case required
    /// A certificate is asked for and verified when given.
    case optional
}

/// How a route is chosen from the ClientHello.
public enum RouteMatch: Sendable, Hashable, CustomStringConvertible {
    /// Any of these ALPN values (and the `-ping` variant of those that have one).
    case alpn([ALPNProtocol])
    /// An offered ALPN value starting with this prefix.
    case alpnPrefix(String)
    /// A server name starting with this prefix; checked before any ALPN route.
    case sniPrefix(String)
    /// A server name equal to this one, or covered by this `*.domain`; checked before any ALPN
    /// route (exact names first, then wildcards, then prefixes).
    case sni(ServerNamePattern)

    public var description: String {
        switch self {
        case .alpn(let list): "alpn \(list.map(\.rawValue))"
        case .alpnPrefix(let prefix): "alpn prefix \(prefix)"
        case .sniPrefix(let prefix): "sni prefix \(prefix)"
        case .sni(let pattern): "sni \(pattern)"
        }
    }
}

/// What a route does with a connection.
public enum RouteAction: Sendable, Hashable, CustomStringConvertible {
    /// Terminate TLS and forward the plain bytes to this address.
    case forward(HostAndPort)
    /// Pass the TLS connection through untouched (ClientHello replayed) to this address.
    case forwardTLS(HostAndPort)
    /// Pass the TLS connection through untouched to the auth server of the cluster named by the
    /// client's `teleport-auth@<hex(cluster)>.teleport.cluster.local` ALPN value
    /// (`RouteTable.clusters`); an unknown or undecodable cluster is refused.
    case clusterAuth

    public var description: String {
        switch self {
        case .forward(let target): "forward to \(target)"
        case .forwardTLS(let target): "forward TLS to \(target)"
        case .clusterAuth: "forward TLS to the named cluster's auth server"
        }
    }

    /// Whether the route hands on the TLS stream untouched instead of terminating it.
    public var passesTLSThrough: Bool {
        switch self {
        case .forward: false
        case .forwardTLS, .clusterAuth: true
        }
    }
}

/// One entry of the router's route table.
public struct Route: Sendable, Hashable {
    public var match: RouteMatch
    public var action: RouteAction
    public var clientCertificate: ClientCertificatePolicy

    public init(match: RouteMatch, action: RouteAction, clientCertificate: ClientCertificatePolicy = .required) {
        self.match = match
        self.action = action
        self.clientCertificate = clientCertificate
    }
}

/// A Teleport cluster whose auth server the router reaches for `teleport-auth@` connections.
public struct ClusterAuthServer: Sendable, Hashable {
    /// The cluster name, as encoded (hex) in the ALPN value.
    public var name: String
    public var address: HostAndPort

    public init(name: String, address: HostAndPort) {
        self.name = name
        self.address = address
    }
}

/// A database the router reaches for certificates whose RouteToDatabase names it.
public struct DatabaseRoute: Sendable, Hashable {
    public var name: String
    public var databaseProtocol: DatabaseProtocol
    public var address: HostAndPort
    /// TLS between the router and the database.
    public var tls: DatabaseTLS

    public init(name: String, databaseProtocol: DatabaseProtocol, address: HostAndPort, tls: DatabaseTLS = .disabled) {
        self.name = name
        self.databaseProtocol = databaseProtocol
        self.address = address
        self.tls = tls
    }
}
