import ProxyCore
import ServerALPN
import Testing

/// What the router advertises in its TLS handshake and which routes demand a client certificate.
@Suite("RouteTable advertisement and certificate policy")
struct RouteTableAdvertisementTests {
    /// What a TLS server using server preference order picks: its first value the client offers.
    func negotiate(server: [String], client: [String]) -> String? {
        server.first { client.contains($0) }
    }

    @Test("the database selection advertises every database protocol, ping variants first")
    func databaseAdvertisement() {
        let advertised = SampleRoutes.table().advertisedProtocols(for: .database)
        let databases = ALPNProtocol.databaseProtocols.map(\.rawValue)
        #expect(advertised == databases.map { $0 + "-ping" } + databases)
    }

    @Test("the server prefers the -ping variant when the client offers both, in either order", arguments: [
        ["teleport-postgres-ping", "teleport-postgres"], ["teleport-postgres", "teleport-postgres-ping"],
    ])
    func prefersPing(offer: [String]) {
        let advertised = SampleRoutes.table().advertisedProtocols(for: .database)
        #expect(negotiate(server: advertised, client: offer) == "teleport-postgres-ping")
    }

    @Test("without ping framing no -ping variant is advertised and X is negotiated")
    func noPingFraming() {
        let advertised = SampleRoutes.table(pingFraming: false).advertisedProtocols(for: .database)
        #expect(advertised == ALPNProtocol.databaseProtocols.map(\.rawValue))
        #expect(negotiate(server: advertised, client: ["teleport-mysql-ping", "teleport-mysql"]) == "teleport-mysql")
    }

    @Test("an ALPN route advertises its list, with ping variants only where supported")
    func routeAdvertisement() {
        let table = SampleRoutes.table()
        #expect(table.advertisedProtocols(for: .route(index: 3)) == ["http/1.1", "h2"])
        #expect(table.advertisedProtocols(for: .route(index: 0)) == ["teleport-proxy-ssh"])
        #expect(table.advertisedProtocols(for: .route(index: 4)) == ["teleport-tcp-ping", "teleport-tcp"])
        #expect(SampleRoutes.table(pingFraming: false).advertisedProtocols(for: .route(index: 4)) == ["teleport-tcp"])
    }

    @Test("prefix routes advertise nothing")
    func prefixRoutesAdvertiseNothing() {
        let table = SampleRoutes.table()
        #expect(table.advertisedProtocols(for: .route(index: 1)).isEmpty)
        #expect(table.advertisedProtocols(for: .route(index: 2)).isEmpty)
    }

    @Test("database routes require a client certificate; routes follow their policy")
    func certificatePolicy() {
        let table = SampleRoutes.table()
        #expect(table.clientCertificatePolicy(for: .database) == .required)
        #expect(table.clientCertificatePolicy(for: .route(index: 0)) == .required)
        #expect(table.clientCertificatePolicy(for: .route(index: 3)) == .optional)
    }

    @Test("a route's policy defaults to required")
    func defaultPolicy() {
        let route = Route(match: .alpn([.http1]), action: .forward(SampleRoutes.web))
        #expect(route.clientCertificate == .required)
    }
}
