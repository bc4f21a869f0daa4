import Foundation
import NIOCore
import NIOSSL
import ProxyCore
import ServerALPN
import Testing

/// Configured routes, the identity override, pings, and ALPN as an independent client sees it.
@Suite("Routing")
struct RoutingTests {
    private let payload = Array("ping-pong".utf8)

    @Test("a route with client_cert optional admits a client without a certificate")
    func optionalClientCertificate() async throws {
        let chain = try await ProxyChain.start { backend in
            [Route(match: .alpn([.http1, .http2]), action: .forward(backend), clientCertificate: .optional)]
        }
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: ["h2"], material: nil, trustRoots: try chain.pki.hostCACertificates,
            send: payload, holdFor: .seconds(10), expecting: payload.count)
        #expect(outcome.negotiatedProtocol == "h2")
        #expect(Array(outcome.received.readableBytesView) == payload)
        await chain.stop()
    }

    @Test("no ALPN offered counts as http/1.1")
    func noALPNIsHTTP1() async throws {
        let chain = try await ProxyChain.start { backend in
            [Route(match: .alpn([.http1]), action: .forward(backend), clientCertificate: .optional)]
        }
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: [], material: nil, trustRoots: try chain.pki.hostCACertificates,
            send: payload, holdFor: .seconds(10), expecting: payload.count)
        #expect(outcome.handshakeCompleted)
        #expect(Array(outcome.received.readableBytesView) == payload)
        await chain.stop()
    }

    @Test("a database certificate goes to its database whatever the ALPN")
    func identityOverridesALPN() async throws {
        let chain = try await ProxyChain.start { _ in
            [Route(match: .alpn([.http1]), action: .forward(HostAndPort(host: "127.0.0.1", port: 9)), clientCertificate: .optional)]
        }
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: ["http/1.1"], material: try chain.pki.user(), trustRoots: try chain.pki.hostCACertificates,
            send: payload, holdFor: .seconds(10), expecting: payload.count)
        #expect(Array(outcome.received.readableBytesView) == payload)
        let routed = try await chain.routerEvents.first { event -> RoutedConnection? in
            if case .routed(let connection) = event { return connection }
            return nil
        }
        #expect(routed.database == "echo1")
        await chain.stop()
    }

    @Test("TLS passthrough by SNI prefix: the backend terminates TLS, the ClientHello is replayed")
    func passthroughBySNI() async throws {
        let pki = try TestPKI()
        let backendCertificate = try pki.hostCA.issueServer(commonName: "kube.backend", dnsNames: ["kube-teleport-proxy-alpn.example"], ipAddresses: [])
        let backendTLS = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try TestPKI.nio(backendCertificate.certificatePEM))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(backendCertificate.privateKeyPEM.utf8), format: .pem)))
        let tlsBackend = try await TestBackend.start(.tlsEcho(try NIOSSLContext(configuration: backendTLS)))
        let chain = try await ProxyChain.start(pki: pki) { _ in
            [Route(match: .sniPrefix("kube-teleport-proxy-alpn."), action: .forwardTLS(HostAndPort(host: "127.0.0.1", port: tlsBackend.port)))]
        }
        // Verification against the host CA with this SNI succeeds only if the backend's certificate
        // (not the router's) was presented.
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: ["h2"], material: nil, trustRoots: try pki.hostCACertificates,
            serverName: "kube-teleport-proxy-alpn.example", send: payload, holdFor: .seconds(10), expecting: payload.count)
        #expect(outcome.error == nil)
        #expect(outcome.handshakeCompleted)
        #expect(Array(outcome.received.readableBytesView) == payload)
        await chain.stop()
        await tlsBackend.stop()
    }

    @Test("TLS passthrough by ALPN prefix (teleport-auth@...)")
    func passthroughByALPNPrefix() async throws {
        let pki = try TestPKI()
        let backendTLS = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try TestPKI.nio(pki.server.certificatePEM))],
            privateKey: .privateKey(try pki.serverKey))
        let tlsBackend = try await TestBackend.start(.tlsEcho(try NIOSSLContext(configuration: backendTLS)))
        let chain = try await ProxyChain.start(pki: pki) { _ in
            [Route(match: .alpnPrefix(ALPNProtocol.authPrefix), action: .forwardTLS(HostAndPort(host: "127.0.0.1", port: tlsBackend.port)))]
        }
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: [ALPNProtocol.auth(clusterName: "example.com").rawValue], material: nil,
            trustRoots: try pki.hostCACertificates, send: payload, holdFor: .seconds(10), expecting: payload.count)
        #expect(outcome.handshakeCompleted)
        #expect(Array(outcome.received.readableBytesView) == payload)
        await chain.stop()
        await tlsBackend.stop()
    }

    @Test("the router pings idle -ping connections: four zero bytes per interval")
    func routerSendsPings() async throws {
        let chain = try await ProxyChain.start()  // ping interval 50 ms
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: ["teleport-postgres-ping", "teleport-postgres"], material: try chain.pki.user(),
            trustRoots: try chain.pki.hostCACertificates, holdFor: .milliseconds(400))
        #expect(outcome.negotiatedProtocol == "teleport-postgres-ping")
        let bytes = Array(outcome.received.readableBytesView)
        #expect(bytes.count >= 12)
        #expect(bytes.count % 4 == 0)
        #expect(bytes.allSatisfy { $0 == 0 })
        await chain.stop()
    }

    @Test("data sent on a -ping connection arrives framed: 4-byte big-endian length, then the bytes")
    func framedData() async throws {
        let chain = try await ProxyChain.start()
        let framed: [UInt8] = [0, 0, 0, UInt8(payload.count)] + payload + [0, 0, 0, 0]
        let outcome = try await RawTLSClient.run(
            port: chain.routerPort, alpn: ["teleport-postgres-ping"], material: try chain.pki.user(),
            trustRoots: try chain.pki.hostCACertificates, send: framed, holdFor: .seconds(1))
        var received = outcome.received
        var parser = PingFrameParser()
        var echoed: [UInt8] = []
        while let chunk = parser.nextPayload(from: &received) { echoed += Array(chunk.readableBytesView) }
        #expect(echoed == payload)
        await chain.stop()
    }

    @Test("openssl s_client: teleport-postgres-ping when offering both, teleport-postgres when offering only that")
    func opensslNegotiation() async throws {
        let chain = try await ProxyChain.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-openssl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let issued = try chain.pki.userCA.issueUser(UserCertificateRequest(
            user: "alice", route: RouteToDatabase(serviceName: "echo1", protocolName: "redis")))
        let files = try chain.pki.writeFiles(user: issued, to: directory)
        for (offer, expected) in [("teleport-postgres-ping,teleport-postgres", "teleport-postgres-ping"), ("teleport-postgres", "teleport-postgres")] {
            let output = try OpenSSL.sClient(
                port: chain.routerPort, arguments: ["-alpn", offer, "-cert", files.cert, "-key", files.key, "-CAfile", files.hostCA, "-servername", "localhost"])
            #expect(output.contains("ALPN protocol: \(expected)\n"), "offer \(offer): \(output.suffix(600))")
            #expect(output.contains("Verify return code: 0 (ok)"))
        }
        await chain.stop()
    }
}

/// Runs the openssl command line tool.
enum OpenSSL {
    static func sClient(port: Int, arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "s_client", "-connect", "127.0.0.1:\(port)"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
