import Foundation
import LocalDBProxy
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// Every way a connection is refused: each must end the connection and say why.
@Suite("Rejections")
struct RejectionTests {
    /// A database ALPN without a protocol handler: refusals close the connection. (PostgreSQL
    /// refusals arrive as ErrorResponses: PostgresEndToEndTests.)
    private static let databaseOffer = ["teleport-redis-ping", "teleport-redis"]

    private func rejection(_ chain: ProxyChain) async throws -> RouterRejection {
        try await chain.routerEvents.first { event -> RouterRejection? in
            if case .rejected(_, _, let reason, _) = event { return reason }
            return nil
        }
    }

    @Test("no client certificate on a database route: handshake refused")
    func noClientCertificate() async throws {
        let chain = try await ProxyChain.start()
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: Self.databaseOffer, material: nil, trustRoots: try chain.pki.hostCACertificates, send: [1, 2, 3])
        #expect(outcome.closedByServer)
        #expect(outcome.received.readableBytes == 0)
        let reason = try await rejection(chain)
        guard case .tlsFailed(let text) = reason else { Issue.record("unexpected \(reason)"); return }
        #expect(text.contains("CERTIFICATE"))
        await chain.stop()
    }

    @Test("certificate from another CA: refused by the router, client sees the connection close")
    func foreignCertificate() async throws {
        let chain = try await ProxyChain.start()
        let otherCA = try DevCertificateAuthority.make(commonName: "Someone else's CA")
        let (proxy, port, _) = try await chain.localProxy(try chain.pki.user(issuer: otherCA))
        let (_, received) = try await TestClient.waitForClose(port: port, send: Array("hello".utf8))
        #expect(received == 0)
        let reason = try await rejection(chain)
        guard case .tlsFailed = reason else { Issue.record("unexpected \(reason)"); return }
        await proxy.stop()
        await chain.stop()
    }

    @Test("expired certificate: the local proxy refuses before dialling and names the expiry time")
    func expiredCertificate() async throws {
        let chain = try await ProxyChain.start()
        let material = try chain.pki.user(notBefore: Date() - 7200, validFor: 3600)
        let (proxy, port, events) = try await chain.localProxy(material)
        let (_, received) = try await TestClient.waitForClose(port: port)
        #expect(received == 0)
        let reason = try await events.first { event -> LocalProxyError? in
            if case .connectionFailed(_, _, let reason) = event { return reason }
            return nil
        }
        guard case .certificate(.expired(let notAfter)) = reason else { Issue.record("unexpected \(reason)"); return }
        #expect(abs(notAfter.timeIntervalSince(material.leaf.notValidAfter)) < 1)
        #expect(reason.description.contains("expired at \(Timestamp.format(notAfter))"))
        #expect(reason.description.contains("renew"))
        // The router never saw the connection.
        try await Task.sleep(for: .milliseconds(200))
        #expect(await chain.routerEvents.events.allSatisfy { if case .listening = $0 { true } else { false } })
        await proxy.stop()
        await chain.stop()
    }

    @Test("certificate not yet valid: refused by the local proxy")
    func notYetValidCertificate() async throws {
        let chain = try await ProxyChain.start()
        let (proxy, port, events) = try await chain.localProxy(try chain.pki.user(notBefore: Date() + 3600))
        _ = try await TestClient.waitForClose(port: port)
        let reason = try await events.first { event -> LocalProxyError? in
            if case .connectionFailed(_, _, let reason) = event { return reason }
            return nil
        }
        guard case .certificate(.notYetValid) = reason else { Issue.record("unexpected \(reason)"); return }
        await proxy.stop()
        await chain.stop()
    }

    @Test("expired certificate presented to the router directly: handshake refused")
    func expiredCertificateAtRouter() async throws {
        let chain = try await ProxyChain.start()
        let material = try chain.pki.user(notBefore: Date() - 7200, validFor: 3600)
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: Self.databaseOffer, material: material, trustRoots: try chain.pki.hostCACertificates, send: [1])
        #expect(outcome.closedByServer)
        #expect(outcome.received.readableBytes == 0)
        let reason = try await rejection(chain)
        guard case .tlsFailed(let text) = reason else { Issue.record("unexpected \(reason)"); return }
        // BoringSSL reports the verification failure without its cause; the local proxy is where
        // the user is told the expiry time (see expiredCertificate).
        #expect(text.contains("CERTIFICATE_VERIFY_FAILED"))
        await chain.stop()
    }

    @Test("unknown ALPN: no route, connection closed without a handshake")
    func unknownALPN() async throws {
        let chain = try await ProxyChain.start()
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: ["foo"], material: try chain.pki.user(), trustRoots: try chain.pki.hostCACertificates)
        #expect(outcome.closedByServer)
        #expect(!outcome.handshakeCompleted)
        let reason = try await rejection(chain)
        #expect(reason == .noRoute(serverName: "localhost", offered: ["foo"]))
        await chain.stop()
    }

    @Test("handshake that never completes is closed at the deadline", arguments: [[], [0x16, 0x03, 0x01, 0x02]] as [[UInt8]])
    func handshakeDeadline(firstBytes: [UInt8]) async throws {
        let chain = try await ProxyChain.start(handshakeTimeout: .milliseconds(300))
        // waitForClose gives up after 10 s; the reason says it was the deadline that closed it.
        let (elapsed, _) = try await TestClient.waitForClose(port: chain.routerPort, send: firstBytes)
        #expect(elapsed >= .milliseconds(250))
        #expect(try await rejection(chain) == .handshakeTimeout)
        await chain.stop()
    }

    @Test("plain text instead of TLS is refused at once")
    func notTLS() async throws {
        let chain = try await ProxyChain.start()
        // Refused on the first bytes: the reason is notTLS, not the handshake deadline (15 s).
        _ = try await TestClient.waitForClose(port: chain.routerPort, send: Array("GET / HTTP/1.1\r\n\r\n".utf8))
        guard case .notTLS = try await rejection(chain) else { Issue.record("expected notTLS"); return }
        await chain.stop()
    }

    @Test("a PostgreSQL login that never starts is closed at the login deadline")
    func loginTimeout() async throws {
        let chain = try await ProxyChain.start(loginTimeout: .milliseconds(300), databases: [
            DatabaseRoute(name: "pg-idle", databaseProtocol: .postgres, address: HostAndPort(host: "127.0.0.1", port: 1))
        ])
        let material = try chain.pki.user(service: "pg-idle", protocolName: "postgres")
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: ["teleport-postgres"], material: material, trustRoots: try chain.pki.hostCACertificates,
            holdFor: .seconds(3))
        #expect(outcome.handshakeCompleted)
        #expect(outcome.closedByServer)
        #expect(try await rejection(chain) == .loginTimeout)
        await chain.stop()
    }

    @Test("a PostgreSQL client that never sends its startup packet is closed by the local proxy")
    func localPreludeTimeout() async throws {
        let chain = try await ProxyChain.start()
        let material = try chain.pki.user(service: "echo1", protocolName: "postgres")
        let (proxy, port, events) = try await chain.localProxy(material, timeouts: ProxyTimeouts(login: .milliseconds(300)))
        let (elapsed, received) = try await TestClient.waitForClose(port: port)
        #expect(received == 0)
        #expect(elapsed >= .milliseconds(250))
        let reason = try await events.first { event -> LocalProxyError? in
            if case .connectionFailed(_, _, let reason) = event { return reason }
            return nil
        }
        #expect(reason == .clientProtocol("the client sent no startup packet within 300ms"))
        await proxy.stop()
        await chain.stop()
    }

    @Test("certificate without a database service on a database ALPN")
    func notADatabaseCertificate() async throws {
        let chain = try await ProxyChain.start()
        let material = try chain.pki.user(service: "", protocolName: "")
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: Self.databaseOffer, material: material, trustRoots: try chain.pki.hostCACertificates)
        #expect(outcome.closedByServer)
        #expect(try await rejection(chain) == .route(.notADatabaseCertificate("alice")))
        await chain.stop()
    }

    @Test("certificate for a database the router does not know")
    func unknownDatabase() async throws {
        let chain = try await ProxyChain.start()
        let (proxy, port, _) = try await chain.localProxy(try chain.pki.user(service: "nope"))
        let (_, received) = try await TestClient.waitForClose(port: port, send: [0])
        #expect(received == 0)
        #expect(try await rejection(chain) == .route(.unknownDatabase("nope")))
        await proxy.stop()
        await chain.stop()
    }
}
