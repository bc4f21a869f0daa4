import Foundation
import ProxyCore
import ServerALPN
import Testing

/// The v2 file's cluster auth servers, server-name routes and several server keypairs.
@Suite("RouterConfigFile routing")
struct RouterConfigRoutingTests {
    func host(_ host: String, _ port: Int) -> HostAndPort { HostAndPort(host: host, port: port) }

    /// The sample without its `teleport-auth@` route, plus `extra`.
    func withoutAuthRoute(_ extra: String) -> String {
        SampleConfig.replacing(lineContaining: "teleport-auth@", with: nil) + extra
    }

    func parse(_ yaml: String, in directory: borrowing ConfigDirectory) throws -> RouterConfiguration {
        try RouterConfigFile.parse(yaml, file: "router.yaml", baseDirectory: directory.path)
    }

    func error(_ yaml: String, in directory: borrowing ConfigDirectory) throws -> RouterConfigError {
        do {
            _ = try RouterConfigFile.parse(yaml, file: "router.yaml", baseDirectory: directory.path)
        } catch {
            return error
        }
        Issue.record("parsed without error:\n\(yaml)")
        throw CancellationError()
    }

    func error(_ yaml: String) throws -> RouterConfigError {
        let directory = try ConfigDirectory()
        return try error(yaml, in: directory)
    }

    // MARK: clusters

    @Test("clusters add a teleport-auth@ route after the configured ones")
    func clusters() throws {
        let directory = try ConfigDirectory()
        let yaml = withoutAuthRoute("""
            clusters:
              - { name: root.example, auth_addr: 10.0.0.1:3025 }
              - name: leaf.example
                auth_addr: "[fd00::2]:3025"

            """)
        let configuration = try parse(yaml, in: directory)
        #expect(configuration.clusters == [
            ClusterAuthServer(name: "root.example", address: host("10.0.0.1", 3025)),
            ClusterAuthServer(name: "leaf.example", address: host("fd00::2", 3025)),
        ])
        #expect(configuration.routes.count == 4)
        #expect(configuration.routes.last == Route(match: .alpnPrefix(ALPNProtocol.authPrefix), action: .clusterAuth))
    }

    @Test("with clusters, a route that would take teleport-auth@ values is refused", arguments: [
        "  - { alpn_prefix: \"teleport-auth@\", forward_tls: 127.0.0.1:3025 }",
        "  - { alpn_prefix: \"teleport-\", forward: 127.0.0.1:3025 }",
        "  - { alpn_prefix: \"teleport-auth@726f\", forward_tls: 127.0.0.1:3025 }",
        "  - { alpn: [\"teleport-auth@726f6f74.teleport.cluster.local\"], forward_tls: 127.0.0.1:3025 }",
    ])
    func authRouteConflict(route: String) throws {
        let yaml = SampleConfig.replacing(lineContaining: "teleport-auth@", with: route)
            + "clusters:\n  - { name: root.example, auth_addr: 10.0.0.1:3025 }\n"
        let error = try error(yaml)
        #expect(error.key == "routes[2]")
        #expect(error.line == SampleConfig.line(of: route.trimmingCharacters(in: .whitespaces), in: yaml))
        #expect(error.reason.contains("teleport-auth@") && error.reason.contains("clusters"))
    }

    @Test("routes that cannot see teleport-auth@ values sit next to clusters")
    func unrelatedPrefix() throws {
        let directory = try ConfigDirectory()
        let yaml = withoutAuthRoute("""
              - { alpn_prefix: "teleport-mysql", forward: 127.0.0.1:3036 }
            clusters:
              - { name: root.example, auth_addr: 10.0.0.1:3025 }

            """)
        #expect(try parse(yaml, in: directory).routes.count == 5)
    }

    @Test("cluster entries are checked", arguments: [
        ("clusters: []\n", "clusters", "empty list"),
        ("clusters: { name: a, auth_addr: 10.0.0.1:3025 }\n", "clusters", "expected a list"),
        ("clusters:\n  - { auth_addr: 10.0.0.1:3025 }\n", "clusters[0].name", "missing"),
        ("clusters:\n  - { name: \"\", auth_addr: 10.0.0.1:3025 }\n", "clusters[0].name", "missing"),
        ("clusters:\n  - { name: a }\n", "clusters[0].auth_addr", "missing"),
        ("clusters:\n  - { name: a, auth_addr: auth.example }\n", "clusters[0].auth_addr", "host:port"),
        ("clusters:\n  - { name: a, auth_addr: 10.0.0.1:3025, addr: x }\n", "clusters[0].addr", "unknown key"),
        ("clusters:\n  - { name: a, auth_addr: 10.0.0.1:3025 }\n  - { name: a, auth_addr: 10.0.0.2:3025 }\n", "clusters[1].name", "listed twice"),
    ])
    func clusterErrors(section: String, key: String, reason: String) throws {
        let yaml = withoutAuthRoute(section)
        let error = try error(yaml)
        #expect(error.key == key)
        #expect(error.reason.contains(reason), "\(error)")
        #expect(error.line != nil)
    }

    // MARK: sni

    @Test("sni routes hold an exact name or a *.domain wildcard")
    func sniRoutes() throws {
        let directory = try ConfigDirectory()
        let yaml = SampleConfig.yaml + """
              - { sni: Grafana.Example.com, forward: 127.0.0.1:3000, client_cert: optional }
              - { sni: "*.apps.example.com", forward_tls: 127.0.0.1:3001 }

            """
        let routes = try parse(yaml, in: directory).routes
        #expect(routes.suffix(2) == [
            Route(match: .sni(try ServerNamePattern(parsing: "grafana.example.com")), action: .forward(host("127.0.0.1", 3000)), clientCertificate: .optional),
            Route(match: .sni(try ServerNamePattern(parsing: "*.apps.example.com")), action: .forwardTLS(host("127.0.0.1", 3001))),
        ])
    }

    @Test("malformed or repeated sni values name the key, the line and what to write", arguments: [
        ("  - { sni: \"a.*.example.com\", forward: 127.0.0.1:1 }", "wildcard"),
        ("  - { sni: \"*\", forward: 127.0.0.1:1 }", "wildcard"),
        ("  - { sni: \"\", forward: 127.0.0.1:1 }", "empty server name"),
        ("  - { sni: \"grafana.example.com:443\", forward: 127.0.0.1:1 }", "letters, digits"),
        ("  - { sni: [a.example.com], forward: 127.0.0.1:1 }", "expected a string"),
        ("  - { sni: GRAFANA.example.com, forward: 127.0.0.1:1 }", "already routed by routes[4]"),
    ])
    func sniErrors(route: String, reason: String) throws {
        let yaml = SampleConfig.yaml + "  - { sni: grafana.example.com, forward: 127.0.0.1:3000 }\n" + route + "\n"
        let error = try error(yaml)
        #expect(error.key == "routes[5].sni")
        #expect(error.line == SampleConfig.line(of: route.trimmingCharacters(in: .whitespaces), in: yaml))
        #expect(error.reason.contains(reason), "\(error)")
    }

    @Test("a route with sni and another match is refused")
    func sniAndALPN() throws {
        let yaml = SampleConfig.yaml + "  - { sni: grafana.example.com, alpn: [h2], forward: 127.0.0.1:3000 }\n"
        let error = try error(yaml)
        #expect(error.key == "routes[4]")
        #expect(error.reason.contains("exactly one of alpn, alpn_prefix, sni, sni_prefix"))
    }

    // MARK: https_keypairs

    /// Writes a host-CA-less server certificate for `dnsNames` as NAME.pem / NAME-key.pem.
    func writeKeypair(_ name: String, dnsNames: [String], in directory: borrowing ConfigDirectory) throws {
        let ca = try DevCertificateAuthority.make(commonName: "keypair test CA")
        let issued = try ca.issueServer(commonName: dnsNames.first ?? "no-dns-name", dnsNames: dnsNames, ipAddresses: ["10.0.0.9"])
        try directory.write("\(name).pem", try issued.certificatePEM)
        try directory.write("\(name)-key.pem", issued.privateKeyPEM)
    }

    @Test("several keypairs: the first is the default, the others carry their certificates' DNS names")
    func severalKeypairs() throws {
        let directory = try ConfigDirectory()
        try writeKeypair("apps", dnsNames: ["*.apps.example.com", "grafana.example.com"], in: directory)
        let yaml = SampleConfig.replacing(
            lineContaining: "cert_file",
            with: "    - { cert_file: server.pem, key_file: server-key.pem }\n    - { cert_file: apps.pem, key_file: apps-key.pem }")
        let configuration = try parse(yaml, in: directory)
        #expect(configuration.certificateChain.count == 2)
        #expect(configuration.additionalKeypairs.count == 1)
        #expect(configuration.keypairs.count == 2)
        #expect(configuration.keypairs[0].serverNames == [try ServerNamePattern(parsing: "localhost"), try ServerNamePattern(parsing: "proxy.localhost")])
        #expect(configuration.additionalKeypairs.first?.serverNames == [
            try ServerNamePattern(parsing: "*.apps.example.com"), try ServerNamePattern(parsing: "grafana.example.com"),
        ])
        let chooser = ServerKeypairChooser(configuration.keypairs)
        #expect(chooser.index(for: "x.apps.example.com") == 1)
        #expect(chooser.index(for: "proxy.localhost") == 0)
    }

    @Test("a keypair after the first without DNS names is refused: nothing could choose it")
    func keypairWithoutNames() throws {
        let directory = try ConfigDirectory()
        try writeKeypair("bare", dnsNames: [], in: directory)
        let line = "    - { cert_file: bare.pem, key_file: bare-key.pem }"
        let yaml = SampleConfig.replacing(lineContaining: "cert_file", with: "    - { cert_file: server.pem, key_file: server-key.pem }\n" + line)
        let error = try error(yaml, in: directory)
        #expect(error.key == "proxy_service.https_keypairs[1].cert_file")
        #expect(error.line == SampleConfig.line(of: line.trimmingCharacters(in: .whitespaces), in: yaml))
        #expect(error.reason.contains("no DNS names"))
        // As the only keypair it is the default and needs none.
        let only = SampleConfig.replacing(lineContaining: "cert_file", with: line)
        #expect(try parse(only, in: directory).additionalKeypairs.isEmpty)
    }

    @Test("problems in a later keypair name its index", arguments: [
        ("    - { cert_file: missing.pem, key_file: server-key.pem }", "proxy_service.https_keypairs[1].cert_file", "does not exist"),
        ("    - { cert_file: server.pem }", "proxy_service.https_keypairs[1].key_file", "missing"),
        ("    - { cert_file: server.pem, key_file: user-ca.pem }", "proxy_service.https_keypairs[1]", "private key"),
        ("    - { cert_file: server.pem, key_file: server-key.pem, sni: x }", "proxy_service.https_keypairs[1].sni", "unknown key"),
    ])
    func laterKeypairErrors(line: String, key: String, reason: String) throws {
        let yaml = SampleConfig.replacing(lineContaining: "cert_file", with: "    - { cert_file: server.pem, key_file: server-key.pem }\n" + line)
        let error = try error(yaml)
        #expect(error.key == key)
        #expect(error.reason.contains(reason), "\(error)")
    }

    @Test("an empty keypair list is refused")
    func emptyKeypairs() throws {
        let yaml = SampleConfig.replacing(lineContaining: "cert_file", with: nil).replacingOccurrences(of: "https_keypairs:", with: "https_keypairs: []")
        let error = try error(yaml)
        #expect(error.key == "proxy_service.https_keypairs")
        #expect(error.reason.contains("expected a list"))
    }
}
