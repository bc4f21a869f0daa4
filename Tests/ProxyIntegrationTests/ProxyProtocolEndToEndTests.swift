import Foundation
import LocalDBProxy
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// The router behind a load balancer: a PROXY protocol header (version 1 or 2) in front of the
/// TLS session, believed only from `trusted_cidrs`, and the original client reported in events.
@Suite("PROXY protocol end to end", .serialized)
struct ProxyProtocolEndToEndTests {
    static let v1Header = Array("PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n".utf8)
    /// PROXY command, TCP over IPv4: 203.0.113.7:5555 -> 192.0.2.1:443.
    static let v2Header: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C,
                                    203, 0, 113, 7, 192, 0, 2, 1, 0x15, 0xB3, 0x01, 0xBB]
    static let message = Array("hello through a load balancer".utf8)

    /// A TLS session to the echo database behind `header`.
    func session(_ router: ProxyProtocolRouter, header: [UInt8]) async throws -> ProxyHeaderTLSClient.Outcome {
        try await ProxyHeaderTLSClient.run(
            port: router.port, header: header, material: try router.pki.user(), trustRoots: try router.pki.hostCACertificates,
            alpn: ["teleport-redis"], send: Self.message, expecting: Self.message.count)
    }

    @Test("a v1 and a v2 header from a trusted peer: the TLS session reaches the database; the routed event names 203.0.113.7:5555",
          arguments: [("v1", v1Header), ("v2", v2Header)])
    func trustedHeader(version: String, header: [UInt8]) async throws {
        let router = try await ProxyProtocolRouter.start(trusted: ["127.0.0.0/8", "::1/128"])
        let outcome = try await session(router, header: header)
        #expect(outcome.handshakeCompleted, "\(outcome)")
        #expect(outcome.negotiatedProtocol == "teleport-redis")
        #expect(outcome.received == Self.message, "echoed through the router")
        let routed = try await router.routed()
        #expect(routed.clientAddress == HostAndPort(host: "203.0.113.7", port: 5555))
        #expect(routed.peer.hasSuffix("127.0.0.1:\(outcome.localPort ?? -1)"), "peer stays the socket peer: \(routed.peer)")
        #expect(routed.database == "echo1" && routed.user == "alice")
        await router.stop()
    }

    @Test("the same header from a peer outside trusted_cidrs is refused before TLS, the reason naming the peer",
          arguments: [("v1", v1Header), ("v2", v2Header)])
    func untrustedHeader(version: String, header: [UInt8]) async throws {
        let router = try await ProxyProtocolRouter.start(trusted: ["10.0.0.0/8", "fd00::/8"])
        let outcome = try await session(router, header: header)
        #expect(!outcome.handshakeCompleted && outcome.closedByServer, "\(outcome)")
        #expect(outcome.received.isEmpty)
        let (peer, reason, client) = try await router.rejection()
        let peerAddress = HostAndPort(host: "127.0.0.1", port: outcome.localPort ?? -1)
        #expect(reason == .proxyHeaderUntrusted(peer: peerAddress.description))
        #expect(reason.description == "PROXY protocol header from \(peerAddress), which is not in proxy_service.proxy_protocol.trusted_cidrs")
        #expect(client == peerAddress, "an unbelieved header changes nothing")
        #expect(peer.hasSuffix("\(peerAddress)"))
        await router.stop()
    }

    @Test("without proxy_protocol configured, a header is refused as not TLS")
    func notConfigured() async throws {
        let router = try await ProxyProtocolRouter.start(trusted: nil)
        let outcome = try await session(router, header: Self.v2Header)
        #expect(!outcome.handshakeCompleted && outcome.closedByServer)
        let (_, reason, _) = try await router.rejection()
        guard case .notTLS(let text) = reason else {
            Issue.record("unexpected \(reason)")
            return
        }
        #expect(text.contains("proxy_protocol is not configured"))
        await router.stop()
    }

    @Test("a trusted peer without a header (header: optional) and with a LOCAL header is its own client; with header: required it is refused")
    func trustedWithoutAddress() async throws {
        let router = try await ProxyProtocolRouter.start(trusted: ["127.0.0.1/32"])
        let direct = try await session(router, header: [])
        #expect(direct.received == Self.message)
        let local = try await session(router, header: [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00])
        #expect(local.received == Self.message)
        let routed = try await router.events.matches(atLeast: 2) { event -> HostAndPort? in
            if case .routed(let routed) = event { return routed.clientAddress }
            return nil
        }
        #expect(Set(routed) == [HostAndPort(host: "127.0.0.1", port: direct.localPort ?? -1), HostAndPort(host: "127.0.0.1", port: local.localPort ?? -1)])
        await router.stop()

        let strict = try await ProxyProtocolRouter.start(trusted: ["127.0.0.1/32"], header: .required)
        let refused = try await session(strict, header: [])
        #expect(!refused.handshakeCompleted && refused.closedByServer)
        let (_, reason, _) = try await strict.rejection()
        #expect(reason == .proxyHeaderMissing(peer: "127.0.0.1:\(refused.localPort ?? -1)"))
        await strict.stop()
    }

    @Test("psql -> local proxy -> HAProxy -> router -> PostgreSQL: the routed event's client is the local proxy's connection to HAProxy, its peer HAProxy's own",
          arguments: ["send-proxy-v2", "send-proxy"])
    func throughHAProxy(serverOptions: String) async throws {
        try await DevDatabase.requirePostgres()
        let database = DatabaseRoute(
            name: "pg-plain", databaseProtocol: .postgres, address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort))
        let router = try await ProxyProtocolRouter.start(trusted: ["127.0.0.0/8"], header: .required, databases: [database])
        let haproxy = try await HAProxyProcess.start(forwardingTo: router.port, serverOptions: serverOptions)
        defer { haproxy.stop() }
        let material = try router.pki.user("trustuser", service: "pg-plain", protocolName: "postgres")
        let (proxy, port) = try await router.localProxy(material, dialling: haproxy.port)
        let result = try await Command.run([
            "psql", "host=127.0.0.1 port=\(port) user=trustuser dbname=appdb sslmode=disable connect_timeout=10",
            "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", "select 'through haproxy as ' || current_user",
        ])
        #expect(result.status == 0, "\(result.output)\n\(haproxy.process.transcript)")
        #expect(result.output == "through haproxy as trustuser\n")
        let routed = try await router.events.first { event -> RoutedConnection? in
            if case .routed(let routed) = event, routed.database == "pg-plain" { return routed }
            return nil
        }
        await proxy.stop()
        let client = try #require(routed.clientAddress)
        #expect(client.host == "127.0.0.1")
        // HAProxy logs the session when it ends: the client it saw, and the address it dialled the router from.
        let logged = try await haproxy.logged(clientPort: client.port)
        print("HAProxy \(serverOptions): routed client \(client), peer \(routed.peer); HAProxy logged client \(logged.client), its own source \(logged.haproxySource)")
        #expect(logged.client == client, "the header carried HAProxy's client")
        #expect(routed.peer.hasSuffix(":\(logged.haproxySource.port)"), "the socket peer is HAProxy's own connection: \(routed.peer)")
        #expect(logged.haproxySource.port != client.port)
        #expect(routed.user == "trustuser")
        await router.stop()
    }
}
