import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// `teleport-auth@<hex(cluster)>.teleport.cluster.local` goes, TLS untouched, to the auth server
/// of the cluster it names (`clusters` in the router's file).
@Suite("Cluster auth routing")
struct ClusterAuthRoutingTests {
    @Test("each cluster's auth server gets the untouched ClientHello and what follows")
    func twoClusters() async throws {
        let root = try await TestBackend.start(.taggedEcho("auth server of root.example|"))
        let leaf = try await TestBackend.start(.taggedEcho("auth server of leaf.example|"))
        let router = try await ConfiguredRouter.start(pki: try TestPKI(), sections: """
            clusters:
              - { name: root.example, auth_addr: "127.0.0.1:\(root.port)" }
              - { name: leaf.example, auth_addr: "127.0.0.1:\(leaf.port)" }
            routes:
              - { alpn: [http/1.1, h2], forward: 127.0.0.1:9, client_cert: optional }

            """)
        // leaf first, so the answer cannot come from the first configured cluster by accident.
        for cluster in ["leaf.example", "root.example"] {
            let hello = SyntheticClientHello.record(serverName: "proxy.localhost", alpn: [ALPNProtocol.auth(clusterName: cluster).rawValue])
            let tag = Array("auth server of \(cluster)|".utf8)
            let outcome = try await RawTCPClient.exchange(port: router.port, send: hello, expecting: tag.count + hello.count)
            #expect(Array(outcome.received.readableBytesView) == tag + hello, "cluster \(cluster)")
        }
        let routed = try await router.routed(atLeast: 2)
        #expect(routed.map(\.destination) == [HostAndPort(host: "127.0.0.1", port: leaf.port), HostAndPort(host: "127.0.0.1", port: root.port)])
        #expect(routed.allSatisfy { $0.negotiatedProtocol == nil && $0.serverName == "proxy.localhost" })
        await router.stop()
        await root.stop()
        await leaf.stop()
    }

    @Test("an unknown cluster and an undecodable value are closed with a log line naming what was asked")
    func unknownCluster() async throws {
        let root = try await TestBackend.start(.taggedEcho("auth server of root.example|"))
        let router = try await ConfiguredRouter.start(pki: try TestPKI(), sections: """
            clusters:
              - { name: root.example, auth_addr: "127.0.0.1:\(root.port)" }

            """)
        let unknown = ALPNProtocol.auth(clusterName: "other.example").rawValue
        let undecodable = "teleport-auth@zz.teleport.cluster.local"
        for value in [unknown, undecodable] {
            let hello = SyntheticClientHello.record(serverName: "proxy.localhost", alpn: [value])
            let outcome = try await RawTCPClient.exchange(port: router.port, send: hello)
            #expect(outcome.closedByServer, "\(value)")
            #expect(outcome.received.readableBytes == 0, "\(value)")
        }
        let reasons = try await router.events.matches(atLeast: 2) { event -> RouterRejection? in
            if case .rejected(_, _, let reason, _) = event { return reason }
            return nil
        }
        #expect(reasons == [
            .route(.unknownCluster("other.example", alpn: unknown, configured: ["root.example"])),
            .route(.clusterUndecodable(undecodable)),
        ])
        let refusals = router.log.lines.filter { $0.contains("connection refused") }
        #expect(refusals.count == 2)
        #expect(refusals.contains { $0.contains("\"other.example\"") && $0.contains(unknown) })
        #expect(refusals.contains { $0.contains(undecodable) })
        await router.stop()
        await root.stop()
    }
}
