import ProxyCore
import ServerALPN
import Testing

/// `RouteTable.select` with exact and wildcard server-name routes.
@Suite("RouteTable server names")
struct RouteTableServerNameTests {
    static let web = HostAndPort(host: "127.0.0.1", port: 8080)
    static let grafana = HostAndPort(host: "127.0.0.1", port: 3000)
    static let apps = HostAndPort(host: "127.0.0.1", port: 3001)
    static let kube = HostAndPort(host: "127.0.0.1", port: 3026)

    /// ALPN first, then wildcard, prefix and exact: the file order is not the matching order.
    let table: RouteTable

    init() throws {
        table = RouteTable(routes: [
            Route(match: .alpn([.http1, .http2]), action: .forward(Self.web)),  // 0
            Route(match: .sni(try ServerNamePattern(parsing: "*.apps.example.com")), action: .forward(Self.apps)),  // 1
            Route(match: .sniPrefix("grafana."), action: .forward(Self.kube)),  // 2
            Route(match: .sni(try ServerNamePattern(parsing: "grafana.apps.example.com")), action: .forward(Self.grafana)),  // 3
        ], databases: [SampleRoutes.pg1])
    }

    @Test("server names choose their route before any ALPN value, database ALPN included", arguments: [
        ("grafana.apps.example.com", ["h2"], RouteTable.Selection.route(index: 3)),
        ("GRAFANA.apps.example.com", ["teleport-postgres"], .route(index: 3)),
        ("x.apps.example.com", ["http/1.1"], .route(index: 1)),
        ("x.apps.example.com", ["teleport-postgres-ping"], .route(index: 1)),
        ("grafana.example.com", ["http/1.1"], .route(index: 2)),
        ("a.b.apps.example.com", ["http/1.1"], .route(index: 0)),
        ("apps.example.com", ["teleport-postgres"], .database),
    ])
    func serverNameFirst(name: String, offer: [String], expected: RouteTable.Selection) {
        #expect(table.select(SampleRoutes.hello(offer, serverName: name)) == expected)
    }

    @Test("an exact name wins over a wildcard listed before it, and a wildcard over a prefix")
    func exactThenWildcardThenPrefix() throws {
        let prefixFirst = RouteTable(routes: [
            Route(match: .sniPrefix("grafana."), action: .forward(Self.kube)),
            Route(match: .sni(try ServerNamePattern(parsing: "*.example.com")), action: .forward(Self.apps)),
            Route(match: .sni(try ServerNamePattern(parsing: "grafana.example.com")), action: .forward(Self.grafana)),
        ], databases: [])
        #expect(prefixFirst.select(SampleRoutes.hello([], serverName: "grafana.example.com")) == .route(index: 2))
        #expect(prefixFirst.select(SampleRoutes.hello([], serverName: "grafana.example.org")) == .route(index: 0))
        #expect(prefixFirst.select(SampleRoutes.hello([], serverName: "loki.example.com")) == .route(index: 1))
    }

    @Test("without a server name only ALPN decides")
    func noServerName() {
        #expect(table.select(SampleRoutes.hello(["h2"], serverName: nil)) == .route(index: 0))
        #expect(table.select(SampleRoutes.hello(["teleport-postgres"], serverName: nil)) == .database)
    }

    @Test("a server-name route advertises no ALPN and keeps its client certificate policy")
    func serverNameRouteTLS() throws {
        let table = RouteTable(routes: [
            Route(match: .sni(try ServerNamePattern(parsing: "grafana.example.com")), action: .forward(Self.grafana), clientCertificate: .optional),
        ], databases: [])
        #expect(table.advertisedProtocols(for: .route(index: 0)).isEmpty)
        #expect(table.clientCertificatePolicy(for: .route(index: 0)) == .optional)
        let destination = try table.destination(for: .route(index: 0), negotiatedProtocol: nil, identity: nil).get()
        #expect(destination.address == Self.grafana)
    }
}
