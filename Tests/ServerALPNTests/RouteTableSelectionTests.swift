import ProxyCore
import ServerALPN
import Testing

/// `RouteTable.select`: SNI prefix routes first, then the client's ALPN values in its order.
@Suite("RouteTable selection")
struct RouteTableSelectionTests {
    let table = SampleRoutes.table()

    @Test("an SNI prefix route wins over any ALPN")
    func sniPrefixFirst() {
        let hello = SampleRoutes.hello(["teleport-postgres-ping", "teleport-proxy-ssh"], serverName: "kube-teleport-proxy-alpn.cluster.example")
        #expect(table.select(hello) == .route(index: 1))
    }

    @Test("a server name that only contains the prefix elsewhere does not match it")
    func sniPrefixIsAPrefix() {
        let hello = SampleRoutes.hello(["teleport-proxy-ssh"], serverName: "x.kube-teleport-proxy-alpn.cluster.example")
        #expect(table.select(hello) == .route(index: 0))
    }

    @Test("database ALPN values go to the database route", arguments: [
        ["teleport-postgres-ping", "teleport-postgres"], ["teleport-postgres"], ["teleport-mysql-ping"],
        ["teleport-mongodb"], ["teleport-spanner-ping"],
    ])
    func databaseProtocols(offer: [String]) {
        #expect(table.select(SampleRoutes.hello(offer)) == .database)
    }

    @Test("teleport-mysql-<base64 version> goes to the database route")
    func mysqlVersion() {
        let offer = [ALPNProtocol.mysqlVersion("8.0.36").rawValue]
        #expect(table.select(SampleRoutes.hello(offer)) == .database)
    }

    @Test("the client's first matching value decides, not the route order", arguments: [
        (["h2", "teleport-proxy-ssh"], RouteTable.Selection.route(index: 3)),
        (["teleport-proxy-ssh", "h2"], .route(index: 0)),
        (["unknown", "teleport-postgres", "h2"], .database),
        (["h2", "teleport-postgres"], .route(index: 3)),
        (["nothing-known", "teleport-tcp"], .route(index: 4)),
    ])
    func clientOrder(offer: [String], expected: RouteTable.Selection) {
        #expect(table.select(SampleRoutes.hello(offer)) == expected)
    }

    @Test("no ALPN offered counts as http/1.1")
    func noALPNIsHTTP1() {
        #expect(table.select(SampleRoutes.hello([], serverName: nil)) == .route(index: 3))
        let withoutHTTP = RouteTable(routes: [SampleRoutes.routes[0]], databases: [])
        #expect(withoutHTTP.select(SampleRoutes.hello([], serverName: nil)) == nil)
    }

    @Test("an ALPN prefix route matches teleport-auth@<hex cluster>")
    func alpnPrefix() {
        let auth = ALPNProtocol.auth(clusterName: "root.example").rawValue
        #expect(auth.hasPrefix("teleport-auth@"))
        #expect(table.select(SampleRoutes.hello([auth])) == .route(index: 2))
        #expect(table.select(SampleRoutes.hello(["teleport-auth"])) == nil)
    }

    @Test("a -ping variant matches a route listing the protocol that supports ping")
    func pingVariantOfTCP() {
        #expect(table.select(SampleRoutes.hello(["teleport-tcp-ping"])) == .route(index: 4))
    }

    @Test("a -ping variant of a protocol without ping support does not match")
    func pingVariantOfHTTP() {
        #expect(table.select(SampleRoutes.hello(["http/1.1-ping"], serverName: nil)) == nil)
        #expect(table.select(SampleRoutes.hello(["teleport-proxy-ssh-ping"], serverName: nil)) == nil)
    }

    @Test("the first of several matching routes wins")
    func firstRouteWins() {
        let first = HostAndPort(host: "10.0.0.1", port: 1)
        let second = HostAndPort(host: "10.0.0.2", port: 2)
        let table = RouteTable(routes: [
            Route(match: .alpn([.http2]), action: .forward(first)),
            Route(match: .alpnPrefix("h"), action: .forward(second)),
        ], databases: [])
        #expect(table.select(SampleRoutes.hello(["h2"])) == .route(index: 0))
        #expect(table.select(SampleRoutes.hello(["hq"])) == .route(index: 1))
    }

    @Test("nothing matching gives no selection", arguments: [
        ["imap"], ["teleport-reversetunnel"], ["acme-tls/1", "spdy/3"],
    ])
    func noMatch(offer: [String]) {
        #expect(table.select(SampleRoutes.hello(offer)) == nil)
    }

    @Test("an empty table selects database ALPN values and nothing else")
    func emptyTable() {
        let empty = RouteTable(routes: [], databases: [])
        #expect(empty.select(SampleRoutes.hello(["teleport-redis-ping"])) == .database)
        #expect(empty.select(SampleRoutes.hello([], serverName: nil)) == nil)
    }
}
