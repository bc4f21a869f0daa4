import ProxyCore

/// The router's routing rules, as pure functions of what a connection shows: the ClientHello
/// before TLS is terminated, then the negotiated protocol and verified identity after.
public struct RouteTable: Sendable {
    public let routes: [Route]
    public let databases: [String: DatabaseRoute]
    /// Whether `-ping` variants are advertised (a router without ping support leaves them out).
    public let pingFraming: Bool

    /// Auth server addresses by cluster name, for `clusterAuth` routes.
    public let clusters: [String: HostAndPort]

    public init(routes: [Route], databases: [DatabaseRoute], pingFraming: Bool = true, clusters: [ClusterAuthServer] = []) {
        self.routes = routes
        self.databases = Dictionary(databases.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.pingFraming = pingFraming
        self.clusters = Dictionary(clusters.map { ($0.name, $0.address) }, uniquingKeysWith: { first, _ in first })
    }

    /// Which TLS setup a selection uses: the built-in database route or a configured route.
    public enum Selection: Sendable, Hashable {
        case database
        case route(index: Int)
    }

    /// Chooses a route from the ClientHello: server-name routes first (exact names, then `*.`
    /// wildcards, then prefixes, each in configuration order), then each offered ALPN value in
    /// the client's order (no ALPN counts as `http/1.1`): database protocols go to the database
    /// route, others to the first configured route that matches.
    public func select(_ hello: ClientHello) -> Selection? {
        if let name = hello.serverName, let index = serverNameRoute(name) { return .route(index: index) }
        let offered = hello.applicationProtocols.isEmpty ? [ALPNProtocol.http1.rawValue] : hello.applicationProtocols
        for value in offered {
            let alpn = ALPNProtocol(value)
            if alpn.isDatabase || value.hasPrefix(ALPNProtocol.mysqlVersionPrefix) { return .database }
            for (index, route) in routes.enumerated() where Self.matches(route.match, alpn) {
                return .route(index: index)
            }
        }
        return nil
    }

    /// The first route matching `name` exactly, else by wildcard, else by prefix.
    private func serverNameRoute(_ name: String) -> Int? {
        func first(_ test: (RouteMatch) -> Bool) -> Int? { routes.firstIndex { test($0.match) } }
        return first { if case .sni(let pattern) = $0 { !pattern.isWildcard && pattern.matches(name) } else { false } }
            ?? first { if case .sni(let pattern) = $0 { pattern.isWildcard && pattern.matches(name) } else { false } }
            ?? first { if case .sniPrefix(let prefix) = $0 { name.hasPrefix(prefix) } else { false } }
    }

    private static func matches(_ match: RouteMatch, _ alpn: ALPNProtocol) -> Bool {
        switch match {
        case .alpn(let list):
            return list.contains(alpn) || (alpn.isPing && list.contains(alpn.withoutPing) && alpn.withoutPing.supportsPing)
        case .alpnPrefix(let prefix):
            return alpn.rawValue.hasPrefix(prefix)
        case .sniPrefix, .sni:
            return false
        }
    }

    /// Where a selection's untouched TLS stream goes, decided from the ClientHello; nil when the
    /// selection terminates TLS. A `clusterAuth` route decodes the cluster from the first offered
    /// `teleport-auth@` value and refuses a cluster that is not configured or not decodable.
    public func passthroughTarget(for selection: Selection, hello: ClientHello) -> Result<HostAndPort, RouteRejection>? {
        guard case .route(let index) = selection else { return nil }
        switch routes[index].action {
        case .forward:
            return nil
        case .forwardTLS(let target):
            return .success(target)
        case .clusterAuth:
            guard let value = hello.applicationProtocols.first(where: { $0.hasPrefix(ALPNProtocol.authPrefix) }) else {
                return .failure(.clusterNotNamed(serverName: hello.serverName, offered: hello.applicationProtocols))
            }
            guard let cluster = ALPNProtocol(value).authClusterName, !cluster.isEmpty else {
                return .failure(.clusterUndecodable(value))
            }
            guard let address = clusters[cluster] else {
                return .failure(.unknownCluster(cluster, alpn: value, configured: clusters.keys.sorted()))
            }
            return .success(address)
        }
    }

    /// The ALPN values the router offers for a selection, in server preference order (ping
    /// variants first when ping framing is on).
    public func advertisedProtocols(for selection: Selection) -> [String] {
        let base: [ALPNProtocol]
        switch selection {
        case .database:
            base = ALPNProtocol.databaseProtocols
        case .route(let index):
            guard case .alpn(let list) = routes[index].match else { return [] }
            base = list
        }
        return (pingFraming ? ALPNProtocol.withPingProtocols(base) : base).map(\.rawValue)
    }

    /// Whether a selection's TLS handshake requires a client certificate.
    public func clientCertificatePolicy(for selection: Selection) -> ClientCertificatePolicy {
        switch selection {
        case .database: .required
        case .route(let index): routes[index].clientCertificate
        }
    }

    /// Where a terminated connection goes.
    public struct Destination: Sendable, Hashable {
        public var address: HostAndPort
        public var database: DatabaseRoute?
        public var identity: CertificateIdentity?
        /// Ping framing applies (the negotiated protocol ends in `-ping`).
        public var pingFramed: Bool
    }

    /// Decides where a connection goes once TLS is up. A verified certificate naming a database
    /// service goes to that database whatever the ALPN; otherwise the selected route applies.
    public func destination(
        for selection: Selection, negotiatedProtocol: String?, identity: CertificateIdentity?
    ) -> Result<Destination, RouteRejection> {
        let pingFramed = negotiatedProtocol.map { ALPNProtocol($0).isPing } ?? false
        if let identity, identity.isDatabaseIdentity {
            let service = identity.routeToDatabase.serviceName
            guard identity.allowsDatabaseUsage else { return .failure(.usageNotAllowed(identity.usage)) }
            guard let database = databases[service] else { return .failure(.unknownDatabase(service)) }
            let named = identity.routeToDatabase.protocolName
            guard named == database.databaseProtocol.rawValue else {
                return .failure(.protocolMismatch(service: service, certificate: named, configured: database.databaseProtocol.rawValue))
            }
            return .success(Destination(address: database.address, database: database, identity: identity, pingFramed: pingFramed))
        }
        switch selection {
        case .database:
            return .failure(identity == nil ? .clientCertificateRequired : .notADatabaseCertificate(identity?.username ?? ""))
        case .route(let index):
            let route = routes[index]
            if route.clientCertificate == .required, identity == nil { return .failure(.clientCertificateRequired) }
            switch route.action {
            case .forward(let target):
                return .success(Destination(address: target, database: nil, identity: identity, pingFramed: pingFramed))
            case .forwardTLS(let target):
                return .success(Destination(address: target, database: nil, identity: identity, pingFramed: false))
            case .clusterAuth:
                return .failure(.passthroughRoute)
            }
        }
    }
}

/// Why a connection was refused after TLS was established.
public enum RouteRejection: Error, Hashable, CustomStringConvertible {
    case clientCertificateRequired
    case notADatabaseCertificate(String)
    case usageNotAllowed([String])
    case unknownDatabase(String)
    case protocolMismatch(service: String, certificate: String, configured: String)
    /// A `teleport-auth@` route's cluster is not configured (`clusters`).
    case unknownCluster(String, alpn: String, configured: [String])
    /// A `teleport-auth@` value whose cluster part is not hex(name) + `.teleport.cluster.local`.
    case clusterUndecodable(String)
    /// A cluster auth route was selected without any `teleport-auth@` value offered.
    case clusterNotNamed(serverName: String?, offered: [String])
    /// A cluster auth route reached TLS termination, where no cluster is known.
    case passthroughRoute

    public var description: String {
        switch self {
        case .clientCertificateRequired:
            "a client certificate issued by the user CA is required on this route"
        case .notADatabaseCertificate(let user):
            "certificate of \"\(user)\" names no database service (1.3.9999.2.1); issue a database certificate"
        case .usageNotAllowed(let usage):
            "certificate usage \(usage) does not include \(IdentityAttribute.databaseUsage)"
        case .unknownDatabase(let service):
            "database service \"\(service)\" is not configured on this router"
        case .protocolMismatch(let service, let certificate, let configured):
            "certificate asks for protocol \"\(certificate)\" but database \"\(service)\" speaks \"\(configured)\""
        case .unknownCluster(let cluster, let alpn, let configured):
            "auth server of cluster \"\(cluster)\" (ALPN \(alpn)) is not configured (clusters: \(configured.isEmpty ? "none" : configured.joined(separator: ", ")))"
        case .clusterUndecodable(let alpn):
            "ALPN \(alpn) names no cluster (expected teleport-auth@<hex(cluster name)>.teleport.cluster.local)"
        case .clusterNotNamed(let serverName, let offered):
            "cluster auth route chosen for server name \(serverName.map { "\"\($0)\"" } ?? "(none)") without a teleport-auth@ ALPN value (offered: \(offered.isEmpty ? "(none)" : offered.joined(separator: ", ")))"
        case .passthroughRoute:
            "the cluster auth route passes TLS through and cannot take a terminated connection"
        }
    }
}
