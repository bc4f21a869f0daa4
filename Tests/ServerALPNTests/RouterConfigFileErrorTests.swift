import Foundation
import ServerALPN
import Testing

/// Problems in a router YAML file are errors naming the file, the key, the line and the reason.
@Suite("RouterConfigFile errors")
struct RouterConfigFileErrorTests {
    /// Parses `yaml` against a directory holding the certificate files and returns the error.
    func error(_ yaml: String, file: String = "router.yaml") throws -> RouterConfigError {
        let directory = try ConfigDirectory()
        do {
            _ = try RouterConfigFile.parse(yaml, file: file, baseDirectory: directory.path)
        } catch {
            return error
        }
        Issue.record("parsed without error:\n\(yaml)")
        throw CancellationError()
    }

    /// The sample with one line replaced, and the line number of that line.
    func sample(replacing old: String, with new: String) -> (yaml: String, line: Int?) {
        let yaml = SampleConfig.replacing(lineContaining: old, with: new)
        return (yaml, SampleConfig.line(of: new.trimmingCharacters(in: .whitespaces), in: yaml))
    }

    @Test("an unknown top-level key names the key, its line and the allowed keys")
    func unknownTopLevelKey() throws {
        let yaml = SampleConfig.yaml + "auth_service: { enabled: true }\n"
        let error = try error(yaml)
        #expect(error.file == "router.yaml")
        #expect(error.key == "auth_service")
        #expect(error.line == SampleConfig.line(of: "auth_service", in: yaml))
        #expect(error.reason.contains("unknown key") && error.reason.contains("proxy_service"))
        #expect(error.description.hasPrefix("router.yaml:\(error.line ?? -1): auth_service: unknown key"))
    }

    @Test("unknown keys inside sections name their full path", arguments: [
        ("handshake_timeout", "  listen_addr: 0.0.0.0:443", "proxy_service.listen_addr"),
        ("name: pg1", "  - { name: pg1, protocol: postgres, uri: 127.0.0.1:5432, port: 5432 }", "databases[0].port"),
        ("teleport-proxy-ssh", "  - { alpn: [teleport-proxy-ssh], forward: 127.0.0.1:3023, timeout: 5s }", "routes[0].timeout"),
        ("cert_file", "    - { cert_file: server.pem, key_file: server-key.pem, ca_file: x.pem }", "proxy_service.https_keypairs[0].ca_file"),
    ])
    func unknownNestedKey(old: String, new: String, key: String) throws {
        let (yaml, line) = sample(replacing: old, with: new)
        let error = try error(yaml)
        #expect(error.key == key)
        #expect(error.line == line)
        #expect(error.reason.contains("unknown key"))
    }

    @Test("a missing file names the path")
    func missingFile() throws {
        let path = "/nonexistent-\(UUID().uuidString)/router.yaml"
        do {
            _ = try RouterConfigFile.load(path: path)
            Issue.record("a missing file loaded")
        } catch {
            #expect(error.file == path && error.key.isEmpty && error.line == nil)
            #expect(error.reason == "cannot read the file")
            #expect(error.description == "\(path): cannot read the file")
        }
    }

    @Test("a missing certificate file names the key, the full path and the line")
    func missingCertificateFile() throws {
        let (yaml, line) = sample(replacing: "cert_file", with: "    - { cert_file: nothere.pem, key_file: server-key.pem }")
        let error = try error(yaml)
        #expect(error.key == "proxy_service.https_keypairs[0].cert_file")
        #expect(error.line == line)
        #expect(error.reason.contains("nothere.pem") && error.reason.contains("does not exist"))
    }

    @Test("a missing client CA file is reported under client_ca_file")
    func missingCAFile() throws {
        let (yaml, line) = sample(replacing: "client_ca_file", with: "  client_ca_file: ca-missing.pem")
        let error = try error(yaml)
        #expect(error.key == "proxy_service.client_ca_file")
        #expect(error.line == line)
        #expect(error.reason.contains("ca-missing.pem"))
    }

    @Test("a certificate file that is not PEM names the file")
    func notPEM() throws {
        let directory = try ConfigDirectory()
        try directory.write("garbage.pem", "not a certificate\n")
        let yaml = SampleConfig.replacing(lineContaining: "client_ca_file", with: "  client_ca_file: garbage.pem")
        do {
            _ = try RouterConfigFile.parse(yaml, file: "router.yaml", baseDirectory: directory.path)
            Issue.record("garbage CA accepted")
        } catch {
            #expect(error.key == "proxy_service.client_ca_file")
            #expect(error.reason.contains("garbage.pem"))
        }
    }

    @Test("bad addresses name the key and quote the value", arguments: [
        ("web_listen_addr", "  web_listen_addr: localhost", "proxy_service.web_listen_addr"),
        ("web_listen_addr", "  web_listen_addr: 127.0.0.1:70000", "proxy_service.web_listen_addr"),
        ("name: pg1", "  - { name: pg1, protocol: postgres, uri: \"postgres://db:5432\" }", "databases[0].uri"),
        ("teleport-proxy-ssh", "  - { alpn: [teleport-proxy-ssh], forward: \":3023\" }", "routes[0].forward"),
        ("sni_prefix", "  - { sni_prefix: kube., forward_tls: \"::1:3026\" }", "routes[1].forward_tls"),
    ])
    func badAddress(old: String, new: String, key: String) throws {
        let (yaml, line) = sample(replacing: old, with: new)
        let error = try error(yaml)
        #expect(error.key == key)
        #expect(error.line == line)
        #expect(error.reason.contains("host:port"))
    }

    @Test("bad durations name the key and the value", arguments: ["15", "fast", "-1s", "1.5s", "2d", "1000000s"])
    func badDuration(value: String) throws {
        let (yaml, line) = sample(replacing: "handshake_timeout", with: "  handshake_timeout: \"\(value)\"")
        let error = try error(yaml)
        #expect(error.key == "proxy_service.handshake_timeout")
        #expect(error.line == line)
        #expect(error.reason.contains("\"\(value)\" is not a duration"))
    }

    @Test("an unknown database protocol names the key and lists the supported ones", arguments: ["postgresql", "mssql", ""])
    func badDatabaseProtocol(name: String) throws {
        let (yaml, line) = sample(replacing: "name: pg1", with: "  - { name: pg1, protocol: \"\(name)\", uri: 127.0.0.1:5432 }")
        let error = try error(yaml)
        #expect(error.key == "databases[0].protocol")
        #expect(error.line == line)
        #expect(error.reason.contains("\"\(name)\"") && error.reason.contains("supported: postgres"))
    }

    @Test("an unknown client_cert policy is refused")
    func badPolicy() throws {
        let (yaml, line) = sample(replacing: "http/1.1", with: "  - { alpn: [http/1.1], forward: 127.0.0.1:8080, client_cert: maybe }")
        let error = try error(yaml)
        #expect(error.key == "routes[3].client_cert")
        #expect(error.line == line)
        #expect(error.reason.contains("required or optional"))
    }

    @Test("a route needs exactly one match and exactly one action", arguments: [
        ("  - { alpn: [h2], sni_prefix: x., forward: 127.0.0.1:1 }", "alpn, alpn_prefix, sni, sni_prefix"),
        ("  - { forward: 127.0.0.1:1 }", "alpn, alpn_prefix, sni, sni_prefix"),
        ("  - { alpn: [h2] }", "forward, forward_tls"),
        ("  - { alpn: [h2], forward: 127.0.0.1:1, forward_tls: 127.0.0.1:2 }", "forward, forward_tls"),
        ("  - { alpn: [], forward: 127.0.0.1:1 }", "empty list"),
    ])
    func routeShape(route: String, reason: String) throws {
        let (yaml, line) = sample(replacing: "teleport-proxy-ssh", with: route)
        let error = try error(yaml)
        #expect(error.key.hasPrefix("routes[0]"))
        #expect(error.line == line)
        #expect(error.reason.contains(reason))
    }

    @Test("a database listed twice is refused")
    func duplicateDatabase() throws {
        let yaml = SampleConfig.replacing(
            lineContaining: "name: pg1",
            with: "  - { name: pg1, protocol: postgres, uri: 127.0.0.1:5432 }\n  - { name: pg1, protocol: mysql, uri: 127.0.0.1:3306 }")
        let error = try error(yaml)
        #expect(error.key == "databases[1].name")
        #expect(error.line == SampleConfig.line(of: "protocol: mysql", in: yaml))
        #expect(error.reason.contains("listed twice"))
    }

    @Test("missing required settings are named", arguments: [
        ("web_listen_addr", "proxy_service.web_listen_addr"),
        ("client_ca_file", "proxy_service.client_ca_file"),
    ])
    func missingSetting(line: String, key: String) throws {
        let error = try error(SampleConfig.replacing(lineContaining: line, with: nil))
        #expect(error.key == key)
        #expect(error.reason.contains("missing"))
    }

    @Test("a missing proxy_service section is named")
    func missingSection() throws {
        let error = try error("version: v2\nroutes: []\n")
        #expect(error.key == "proxy_service")
        #expect(error.reason.contains("missing"))
    }

    @Test("an unsupported version is refused")
    func badVersion() throws {
        let error = try error(SampleConfig.yaml.replacingOccurrences(of: "version: v2", with: "version: v3"))
        #expect(error.key == "version")
        #expect(error.line == 1)
        #expect(error.reason.contains("\"v3\""))
    }

    @Test("an empty file and invalid YAML are reported for the file")
    func emptyAndInvalid() throws {
        let empty = try error("", file: "empty.yaml")
        #expect(empty.file == "empty.yaml" && empty.reason.contains("empty"))
        let invalid = try error("proxy_service: [unclosed\n", file: "bad.yaml")
        #expect(invalid.file == "bad.yaml" && invalid.reason.contains("not valid YAML"))
    }

    @Test("wrong value shapes are refused", arguments: [
        ("ping_interval", "  ping_interval: [30s]", "proxy_service.ping_interval"),
        ("public_addr", "  public_addr: { host: proxy }", "proxy_service.public_addr"),
        ("handshake_timeout", "  ping_framing: sometimes", "proxy_service.ping_framing"),
    ])
    func wrongShapes(old: String, new: String, key: String) throws {
        let (yaml, line) = sample(replacing: old, with: new)
        let error = try error(yaml)
        #expect(error.key == key)
        #expect(error.line == line)
    }
}
