import NIOCore
import ProxyCore
@testable import ServerALPN
import Testing

/// `teleport-auth@<hex(cluster)>.teleport.cluster.local`: the cluster's auth server, TLS untouched.
@Suite("RouteTable cluster auth")
struct RouteTableClusterAuthTests {
    static let root = HostAndPort(host: "10.0.0.1", port: 3025)
    static let leaf = HostAndPort(host: "10.0.0.2", port: 3025)
    static let web = HostAndPort(host: "127.0.0.1", port: 8080)

    let table = RouteTable(
        routes: [
            Route(match: .alpn([.http1]), action: .forward(web)),  // 0
            Route(match: .alpnPrefix(ALPNProtocol.authPrefix), action: .clusterAuth),  // 1
        ],
        databases: [SampleRoutes.pg1],
        clusters: [ClusterAuthServer(name: "root.example", address: root), ClusterAuthServer(name: "leaf.example", address: leaf)])

    func target(_ offer: [String]) -> Result<HostAndPort, RouteRejection>? {
        let hello = SampleRoutes.hello(offer)
        guard let selection = table.select(hello) else { return nil }
        return table.passthroughTarget(for: selection, hello: hello)
    }

    @Test("each cluster name leads to its own auth server")
    func knownClusters() throws {
        #expect(try target([ALPNProtocol.auth(clusterName: "root.example").rawValue])?.get() == Self.root)
        #expect(try target([ALPNProtocol.auth(clusterName: "leaf.example").rawValue])?.get() == Self.leaf)
        // Upper-case hex decodes to the same name, as Go's hex decoder allows.
        #expect(try target(["teleport-auth@726F6F742E6578616D706C65.teleport.cluster.local"])?.get() == Self.root)
    }

    @Test("the first teleport-auth@ value offered decides, after values no route takes")
    func firstAuthValue() throws {
        let offer = ["spdy/3", ALPNProtocol.auth(clusterName: "leaf.example").rawValue, ALPNProtocol.auth(clusterName: "root.example").rawValue]
        #expect(try target(offer)?.get() == Self.leaf)
    }

    @Test("an unknown cluster is refused naming the cluster, the value and the configured clusters")
    func unknownCluster() {
        let value = ALPNProtocol.auth(clusterName: "other.example").rawValue
        #expect(target([value]) == .failure(.unknownCluster("other.example", alpn: value, configured: ["leaf.example", "root.example"])))
        let text = RouteRejection.unknownCluster("other.example", alpn: value, configured: ["leaf.example", "root.example"]).description
        #expect(text.contains("\"other.example\"") && text.contains(value) && text.contains("leaf.example, root.example"))
    }

    @Test("values whose cluster part does not decode are refused naming the value", arguments: [
        "teleport-auth@", "teleport-auth@.teleport.cluster.local", "teleport-auth@abc.teleport.cluster.local",
        "teleport-auth@zz.teleport.cluster.local", "teleport-auth@ff.teleport.cluster.local",
    ])
    func undecodable(value: String) {
        #expect(target([value]) == .failure(.clusterUndecodable(value)))
        #expect(RouteRejection.clusterUndecodable(value).description.contains(value))
    }

    @Test("other selections are not passed through by a cluster auth table")
    func otherSelections() {
        #expect(target(["http/1.1"]) == nil)
        #expect(target(["teleport-postgres"]) == nil)
    }

    @Test("a cluster auth route chosen by server name, with no teleport-auth@ value, is refused")
    func chosenByServerName() throws {
        let table = RouteTable(
            routes: [Route(match: .sni(try ServerNamePattern(parsing: "auth.example.com")), action: .clusterAuth, clientCertificate: .optional)],
            databases: [], clusters: [ClusterAuthServer(name: "root.example", address: Self.root)])
        let hello = SampleRoutes.hello(["h2"], serverName: "auth.example.com")
        #expect(table.passthroughTarget(for: .route(index: 0), hello: hello) == .failure(.clusterNotNamed(serverName: "auth.example.com", offered: ["h2"])))
        #expect(table.destination(for: .route(index: 0), negotiatedProtocol: nil, identity: nil) == .failure(.passthroughRoute))
    }

    @Test("the state machine passes the ClientHello through to the cluster's auth server")
    func machinePassesThrough() throws {
        var machine = RouterConnectionStateMachine(table: table)
        let hello = HelloBuilder(serverName: "proxy.example.com", protocols: [ALPNProtocol.auth(clusterName: "leaf.example").rawValue]).records()
        let action = try #require(machine.received(ByteBuffer(bytes: hello)).passThrough)
        #expect(action.target == Self.leaf)
        #expect(action.replay == ByteBuffer(bytes: hello))
    }

    @Test("the state machine closes an unknown cluster's connection with the reason")
    func machineRefuses() throws {
        var machine = RouterConnectionStateMachine(table: table)
        let value = ALPNProtocol.auth(clusterName: "nowhere").rawValue
        let hello = HelloBuilder(serverName: "proxy.example.com", protocols: [value]).records()
        let rejection = try #require(machine.received(ByteBuffer(bytes: hello)).rejection)
        #expect(rejection == .route(.unknownCluster("nowhere", alpn: value, configured: ["leaf.example", "root.example"])))
        #expect(rejection.description.contains("\"nowhere\""))
        #expect(machine.isClosed)
    }
}
