import ProxyCore
import ServerALPN
import Testing

/// `RouteTable.destination`: where a connection goes once TLS is up.
@Suite("RouteTable destination")
struct RouteTableDestinationTests {
    let table = SampleRoutes.table()

    func destination(
        _ selection: RouteTable.Selection, _ negotiated: String?, _ identity: CertificateIdentity?
    ) -> Result<RouteTable.Destination, RouteRejection> {
        table.destination(for: selection, negotiatedProtocol: negotiated, identity: identity)
    }

    @Test("a database certificate goes to its database, ping framed when -ping was negotiated")
    func databaseByCertificate() throws {
        let identity = SampleRoutes.identity(service: "pg1", protocolName: "postgres")
        let framed = try destination(.database, "teleport-postgres-ping", identity).get()
        #expect(framed.address == SampleRoutes.pg1.address)
        #expect(framed.database == SampleRoutes.pg1)
        #expect(framed.identity == identity)
        #expect(framed.pingFramed)
        let plain = try destination(.database, "teleport-postgres", identity).get()
        #expect(!plain.pingFramed)
    }

    @Test("a database certificate overrides the ALPN route", arguments: [
        (RouteTable.Selection.route(index: 3), "http/1.1" as String?), (.route(index: 0), "teleport-proxy-ssh"), (.database, nil),
        (.database, "teleport-mysql"),
    ])
    func certificateOverridesALPN(selection: RouteTable.Selection, negotiated: String?) throws {
        let identity = SampleRoutes.identity(service: "my1", protocolName: "mysql")
        let result = try destination(selection, negotiated, identity).get()
        #expect(result.database?.name == "my1")
        #expect(result.address == SampleRoutes.my1.address)
    }

    @Test("an unknown database service is refused with its name")
    func unknownDatabase() {
        let identity = SampleRoutes.identity(service: "pg9", protocolName: "postgres")
        #expect(throws: RouteRejection.unknownDatabase("pg9")) { try destination(.database, "teleport-postgres", identity).get() }
    }

    @Test("a certificate whose protocol differs from the database's is refused")
    func protocolMismatch() {
        let identity = SampleRoutes.identity(service: "pg1", protocolName: "mysql")
        let expected = RouteRejection.protocolMismatch(service: "pg1", certificate: "mysql", configured: "postgres")
        #expect(throws: expected) { try destination(.database, "teleport-mysql", identity).get() }
        #expect(expected.description.contains("\"mysql\"") && expected.description.contains("\"postgres\""))
    }

    @Test("a usage that excludes usage:db is refused; no usage at all is allowed")
    func usage() throws {
        let web = SampleRoutes.identity(service: "pg1", protocolName: "postgres", usage: ["usage:apps"])
        #expect(throws: RouteRejection.usageNotAllowed(["usage:apps"])) { try destination(.database, nil, web).get() }
        let none = SampleRoutes.identity(service: "pg1", protocolName: "postgres", usage: [])
        #expect(try destination(.database, nil, none).get().database == SampleRoutes.pg1)
    }

    @Test("the database route without a certificate needs one")
    func databaseWithoutCertificate() {
        #expect(throws: RouteRejection.clientCertificateRequired) { try destination(.database, "teleport-postgres", nil).get() }
    }

    @Test("the database route with a non-database certificate says so, naming the user")
    func databaseWithUserCertificate() {
        let identity = SampleRoutes.identity(user: "bob")
        #expect(throws: RouteRejection.notADatabaseCertificate("bob")) { try destination(.database, "teleport-postgres", identity).get() }
        #expect(RouteRejection.notADatabaseCertificate("bob").description.contains("\"bob\""))
    }

    @Test("an optional-certificate route forwards without a certificate")
    func optionalRoute() throws {
        let result = try destination(.route(index: 3), "h2", nil).get()
        #expect(result.address == SampleRoutes.web)
        #expect(result.database == nil && result.identity == nil && !result.pingFramed)
    }

    @Test("a required-certificate route refuses a connection without one")
    func requiredRoute() throws {
        #expect(throws: RouteRejection.clientCertificateRequired) { try destination(.route(index: 0), "teleport-proxy-ssh", nil).get() }
        let identity = SampleRoutes.identity(user: "carol")
        let result = try destination(.route(index: 0), "teleport-proxy-ssh", identity).get()
        #expect(result.address == SampleRoutes.ssh)
        #expect(result.identity?.username == "carol")
    }

    @Test("a forward route is ping framed when teleport-tcp-ping was negotiated")
    func forwardPingFramed() throws {
        let identity = SampleRoutes.identity()
        #expect(try destination(.route(index: 4), "teleport-tcp-ping", identity).get().pingFramed)
        #expect(try !destination(.route(index: 4), "teleport-tcp", identity).get().pingFramed)
    }

    @Test("a TLS passthrough route is never ping framed")
    func forwardTLSNotFramed() throws {
        let identity = SampleRoutes.identity()
        let result = try destination(.route(index: 2), "teleport-tcp-ping", identity).get()
        #expect(result.address == SampleRoutes.auth)
        #expect(!result.pingFramed)
    }

    @Test("rejection reasons are sentences a person can act on")
    func descriptions() {
        #expect(RouteRejection.clientCertificateRequired.description.contains("client certificate"))
        #expect(RouteRejection.unknownDatabase("pg9").description.contains("\"pg9\""))
        #expect(RouteRejection.usageNotAllowed(["usage:apps"]).description.contains("usage:db"))
    }
}
