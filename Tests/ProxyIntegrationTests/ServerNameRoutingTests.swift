import NIOCore
import NIOSSL
import ProxyCore
import ServerALPN
import Testing

/// Routes and server certificates chosen by the ClientHello's server name, and ALPN routes that
/// share a port, all configured through the router's YAML file.
@Suite("Server name routing")
struct ServerNameRoutingTests {
    private let payload = Array("hello".utf8)

    @Test("exact and *.domain server-name routes win over ALPN routes; the certificate follows the name")
    func sniRoutesAndKeypairs() async throws {
        let pki = try TestPKI()
        let apps = try pki.hostCA.issueServer(
            commonName: "apps", dnsNames: ["*.apps.example.com", "grafana.example.com", "db.example.com"], ipAddresses: [])
        let grafana = try await TestBackend.start(.taggedEcho("grafana|"))
        let wildcard = try await TestBackend.start(.taggedEcho("apps|"))
        let web = try await TestBackend.start(.taggedEcho("web|"))
        // The ALPN route comes first in the file: server-name routes are tried before it anyway.
        let router = try await ConfiguredRouter.start(pki: pki, extraKeypairs: [apps], sections: """
            routes:
              - { alpn: [http/1.1], forward: "127.0.0.1:\(web.port)", client_cert: optional }
              - { sni: "*.apps.example.com", forward: "127.0.0.1:\(wildcard.port)", client_cert: optional }
              - { sni: grafana.example.com, forward: "127.0.0.1:\(grafana.port)", client_cert: optional }

            """)
        let appsDER = try TestPKI.nio(try apps.certificatePEM).toDERBytes()
        let defaultDER = try TestPKI.nio(try pki.server.certificatePEM).toDERBytes()
        let cases: [(name: String?, verify: Bool, tag: String, certificate: [UInt8])] = [
            ("grafana.example.com", true, "grafana|", appsDER),
            ("x.apps.example.com", true, "apps|", appsDER),
            ("a.b.apps.example.com", false, "web|", defaultDER),
            ("apps.example.com", false, "web|", defaultDER),
            ("localhost", true, "web|", defaultDER),
            (nil, false, "web|", defaultDER),
        ]
        for item in cases {
            let expected = Array(item.tag.utf8) + payload
            let outcome = try await RawTLSClient.run(
                port: router.port, alpn: ["http/1.1"], material: nil, trustRoots: try pki.hostCACertificates,
                serverName: item.name, verify: item.verify, send: payload, holdFor: .seconds(10), expecting: expected.count)
            let label = item.name ?? "(no server name)"
            #expect(outcome.error == nil, "\(label)")
            #expect(Array(outcome.received.readableBytesView) == expected, "\(label)")
            #expect(outcome.peerCertificateDER == item.certificate, "\(label)")
        }
        await router.stop()
        await grafana.stop()
        await wildcard.stop()
        await web.stop()
    }

    @Test("a database connection gets the keypair its server name chooses")
    func databaseKeypair() async throws {
        let pki = try TestPKI()
        let other = try pki.hostCA.issueServer(commonName: "db", dnsNames: ["db.example.com"], ipAddresses: [])
        let database = try await TestBackend.start(.taggedEcho("db|"))
        let router = try await ConfiguredRouter.start(pki: pki, extraKeypairs: [other], sections: """
            databases:
              - { name: echo1, protocol: redis, uri: "127.0.0.1:\(database.port)" }

            """)
        let expected = Array("db|".utf8) + payload
        for (name, certificate) in [("db.example.com", other), ("localhost", pki.server)] {
            let outcome = try await RawTLSClient.run(
                port: router.port, alpn: ["teleport-redis"], material: try pki.user(), trustRoots: try pki.hostCACertificates,
                serverName: name, send: payload, holdFor: .seconds(10), expecting: expected.count)
            #expect(outcome.negotiatedProtocol == "teleport-redis", "\(name)")
            #expect(Array(outcome.received.readableBytesView) == expected, "\(name)")
            #expect(outcome.peerCertificateDER == (try TestPKI.nio(try certificate.certificatePEM).toDERBytes()), "\(name)")
        }
        await router.stop()
        await database.stop()
    }

    @Test("kube-teleport-proxy-alpn. server names pass TLS through to the Kubernetes proxy")
    func kubePassthrough() async throws {
        let pki = try TestPKI()
        let kubeName = "kube-teleport-proxy-alpn.teleport.cluster.local"
        let kubeCertificate = try pki.hostCA.issueServer(commonName: "kube", dnsNames: [kubeName], ipAddresses: [])
        let kube = try await TestBackend.start(.tlsEcho(try Self.serverContext(kubeCertificate, alpn: ["h2"])))
        let web = try await TestBackend.start(.taggedEcho("web|"))
        let router = try await ConfiguredRouter.start(pki: pki, sections: """
            routes:
              - { alpn: [http/1.1, h2], forward: "127.0.0.1:\(web.port)", client_cert: optional }
              - { sni_prefix: kube-teleport-proxy-alpn., forward_tls: "127.0.0.1:\(kube.port)" }

            """)
        let outcome = try await RawTLSClient.run(
            port: router.port, alpn: ["h2"], material: nil, trustRoots: try pki.hostCACertificates,
            serverName: kubeName, send: payload, holdFor: .seconds(10), expecting: payload.count)
        #expect(outcome.error == nil)
        #expect(outcome.negotiatedProtocol == "h2")
        #expect(Array(outcome.received.readableBytesView) == payload)
        #expect(outcome.peerCertificateDER == (try TestPKI.nio(try kubeCertificate.certificatePEM).toDERBytes()))
        let webOutcome = try await RawTLSClient.run(
            port: router.port, alpn: ["h2"], material: nil, trustRoots: try pki.hostCACertificates,
            serverName: "proxy.localhost", send: payload, holdFor: .seconds(10), expecting: 4 + payload.count)
        #expect(Array(webOutcome.received.readableBytesView) == Array("web|".utf8) + payload)
        let routed = try await router.routed(atLeast: 2)
        #expect(routed.map(\.destination.port) == [kube.port, web.port])
        await router.stop()
        await kube.stop()
        await web.stop()
    }

    @Test("acme-tls/1 and http/1.1 share the port: the client's offer picks the route", arguments: [
        (["acme-tls/1"], true), (["http/1.1"], false), (["acme-tls/1", "http/1.1"], true), (["http/1.1", "acme-tls/1"], false), ([], false),
    ])
    func acmeNextToHTTP(offer: [String], toACME: Bool) async throws {
        let pki = try TestPKI()
        let acmeCertificate = try pki.hostCA.issueServer(commonName: "acme", dnsNames: ["localhost"], ipAddresses: [])
        let acme = try await TestBackend.start(.tlsEcho(try Self.serverContext(acmeCertificate, alpn: ["acme-tls/1"])))
        let web = try await TestBackend.start(.taggedEcho("web|"))
        let router = try await ConfiguredRouter.start(pki: pki, sections: """
            routes:
              - { alpn: [acme-tls/1], forward_tls: "127.0.0.1:\(acme.port)" }
              - { alpn: [http/1.1, h2], forward: "127.0.0.1:\(web.port)", client_cert: optional }

            """)
        let expected = toACME ? payload : Array("web|".utf8) + payload
        let outcome = try await RawTLSClient.run(
            port: router.port, alpn: offer, material: nil, trustRoots: try pki.hostCACertificates,
            send: payload, holdFor: .seconds(10), expecting: expected.count)
        #expect(outcome.error == nil)
        #expect(Array(outcome.received.readableBytesView) == expected)
        let presented = toACME ? acmeCertificate : pki.server
        #expect(outcome.peerCertificateDER == (try TestPKI.nio(try presented.certificatePEM).toDERBytes()))
        if toACME {
            #expect(outcome.negotiatedProtocol == "acme-tls/1")
        } else {
            #expect(outcome.negotiatedProtocol == (offer.isEmpty ? nil : "http/1.1"))
        }
        await router.stop()
        await acme.stop()
        await web.stop()
    }

    /// A TLS server context for a backend behind a pass-through route.
    static func serverContext(_ issued: IssuedCertificate, alpn: [String]) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try TestPKI.nio(issued.certificatePEM))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem)))
        tls.applicationProtocols = alpn
        return try NIOSSLContext(configuration: tls)
    }
}
