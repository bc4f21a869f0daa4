import Testing
import ProxyCore

/// DESIGN.md section 3: database protocol -> ALPN, `-ping` variants and the client offer.
@Suite struct ALPNProtocolTests {
    /// The table of DESIGN.md section 3, written out by hand.
    static let table: [(String, String)] = [
        ("postgres", "teleport-postgres"),
        ("cockroachdb", "teleport-postgres"),
        ("mysql", "teleport-mysql"),
        ("mongodb", "teleport-mongodb"),
        ("redis", "teleport-redis"),
        ("sqlserver", "teleport-sqlserver"),
        ("cassandra", "teleport-cassandra"),
        ("oracle", "teleport-oracle"),
        ("snowflake", "teleport-snowflake"),
        ("elasticsearch", "teleport-elasticsearch"),
        ("opensearch", "teleport-opensearch"),
        ("dynamodb", "teleport-dynamodb"),
        ("spanner", "teleport-spanner"),
        ("clickhouse", "teleport-clickhouse"),
        ("clickhouse-http", "teleport-clickhouse"),
    ]

    @Test(arguments: table)
    func databaseProtocolMapsToALPN(name: String, alpn: String) throws {
        let database = try DatabaseProtocol(name: name)
        #expect(database.rawValue == name)
        #expect(database.alpn.rawValue == alpn)
        #expect(database.alpn.isDatabase)
        #expect(database.alpn.supportsPing)
    }

    @Test func tableCoversEveryProtocol() {
        #expect(Set(DatabaseProtocol.allCases.map(\.rawValue)) == Set(Self.table.map(\.0)))
        #expect(Set(ALPNProtocol.databaseProtocols.map(\.rawValue)) == Set(Self.table.map(\.1)))
    }

    @Test(arguments: ["", "Postgres", "POSTGRES", "postgresql", "mariadb", "clickhouse_http", " postgres"])
    func unknownProtocolNameIsAnError(name: String) {
        let error = #expect(throws: ProtocolNameError.self) { try DatabaseProtocol(name: name) }
        #expect(error?.name == name)
    }

    @Test func unknownProtocolErrorNamesTheInputAndTheKnownNames() {
        let error = #expect(throws: ProtocolNameError.self) { try DatabaseProtocol(name: "mariadb") }
        guard let error else { return }
        #expect(error.description.contains("\"mariadb\""))
        for known in DatabaseProtocol.allCases {
            #expect(error.description.contains(known.rawValue))
        }
    }

    @Test func routerProtocolNames() {
        #expect(ALPNProtocol.tcp.rawValue == "teleport-tcp")
        #expect(ALPNProtocol.proxySSH.rawValue == "teleport-proxy-ssh")
        #expect(ALPNProtocol.reverseTunnel.rawValue == "teleport-reversetunnel")
        #expect(ALPNProtocol.http1.rawValue == "http/1.1")
        #expect(ALPNProtocol.http2.rawValue == "h2")
        #expect(ALPNProtocol.acme.rawValue == "acme-tls/1")
        #expect(ALPNProtocol.kubeSNIPrefix == "kube-teleport-proxy-alpn.")
    }

    // MARK: -ping variants

    @Test(arguments: ALPNProtocol.databaseProtocols + [.tcp])
    func pingVariant(base: ALPNProtocol) {
        let ping = base.withPing
        #expect(ping.rawValue == base.rawValue + "-ping")
        #expect(ping.isPing)
        #expect(!base.isPing)
        #expect(ping.withPing == ping)
        #expect(ping.withoutPing == base)
        #expect(base.withoutPing == base)
        #expect(base.supportsPing)
        #expect(ping.isDatabase == base.isDatabase)
    }

    @Test(arguments: [ALPNProtocol.http1, .http2, .acme, .proxySSH, .reverseTunnel, ALPNProtocol("teleport-unknown")])
    func routerProtocolsHaveNoPingVariant(value: ALPNProtocol) {
        #expect(!value.supportsPing)
        #expect(!value.isDatabase)
        #expect(!value.isPing)
    }

    @Test func tcpIsNotADatabaseProtocol() {
        #expect(!ALPNProtocol.tcp.isDatabase)
        #expect(!ALPNProtocol.tcp.withPing.isDatabase)
        #expect(ALPNProtocol("teleport-postgres-ping").isDatabase)
    }

    @Test func serverOrderPutsPingVariantsFirst() {
        let order = ALPNProtocol.withPingProtocols([.postgres, .http1, .tcp])
        #expect(order.map(\.rawValue) == [
            "teleport-postgres-ping", "teleport-tcp-ping", "teleport-postgres", "http/1.1", "teleport-tcp",
        ])
    }

    @Test func serverOrderDropsDuplicates() {
        let order = ALPNProtocol.withPingProtocols([.mysql, .mysql.withPing, .mysql, .http2])
        #expect(order.map(\.rawValue) == ["teleport-mysql-ping", "teleport-mysql", "h2"])
    }

    // MARK: Client offer

    @Test(arguments: DatabaseProtocol.allCases)
    func clientOfferIsPingThenPlain(database: DatabaseProtocol) {
        let offer = ALPNProtocol.clientOffer(for: database)
        #expect(offer == [database.alpn.withPing, database.alpn])
        #expect(offer.first?.rawValue.hasSuffix("-ping") == true)
    }

    @Test func clientOfferForCockroachIsPostgres() {
        #expect(ALPNProtocol.clientOffer(for: .cockroachdb).map(\.rawValue) == ["teleport-postgres-ping", "teleport-postgres"])
        #expect(ALPNProtocol.clientOffer(for: .clickhouseHTTP).map(\.rawValue) == ["teleport-clickhouse-ping", "teleport-clickhouse"])
    }

    @Test func mysqlOfferCarriesServerVersion() {
        let offer = ALPNProtocol.clientOffer(for: .mysql, mysqlServerVersion: "8.0.36")
        #expect(offer.map(\.rawValue) == ["teleport-mysql-ping", "teleport-mysql", "teleport-mysql-OC4wLjM2"])
        #expect(ALPNProtocol.mysqlServerVersion(in: offer) == "8.0.36")
    }

    @Test func emptyOrForeignServerVersionIsNotOffered() {
        #expect(ALPNProtocol.clientOffer(for: .mysql, mysqlServerVersion: "").count == 2)
        #expect(ALPNProtocol.clientOffer(for: .postgres, mysqlServerVersion: "8.0.36").map(\.rawValue)
            == ["teleport-postgres-ping", "teleport-postgres"])
    }
}
