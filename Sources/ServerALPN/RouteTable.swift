import ProxyCore

/// The router's routing rules, as pure functions of what a connection shows: the ClientHello
/// before TLS is terminated, then the negotiated protocol and verified identity after.
public struct RouteTable: Sendable {
    public let routes: [Route]
    public let databases: [String: DatabaseRoute]
    /// Whether `-ping` variants are advertised (a router without ping support leaves them out).
    public let pingFraming: Bool

    public init(routes: [Route], databases: [DatabaseRoute], pingFraming: Bool = true) {
        self.routes = routes
        self.databases = Dictionary(databases.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.pingFraming = pingFraming
    }

    /// Which TLS setup a selection uses: the built-in database route or a configured route.
    public enum Selection: Sendable, Hashable {
        case database
        case route(index: Int)
    }

    /// Chooses a route from the ClientHello: server-name prefix routes first, then each offered
    /// ALPN value in the client's order (no ALPN counts as `http/1.1`): database protocols go to
    /// the database route, others to the first configured route that matches.
    public func select(_ hello: ClientHello) -> Selection? {
        if let name = hello.serverName {
            for (index, route) in routes.enumerated() {
                if case .sniPrefix(let prefix) = route.match, name.hasPrefix(prefix) { return .route(index: index) }
            }
        }
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

    private static func matches(_ match: RouteMatch, _ alpn: ALPNProtocol) -> Bool {
        switch match {
        case .alpn(let list):
            return list.contains(alpn) || (alpn.isPing && list.contains(alpn.withoutPing) && alpn.withoutPing.supportsPing)
        case .alpnPrefix(let prefix):
            return alpn.rawValue.hasPrefix(prefix)
        case .sniPrefix:
            return false
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
        }
    }
}
