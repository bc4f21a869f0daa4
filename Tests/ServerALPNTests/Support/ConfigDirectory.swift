import Foundation
import ProxyCore

/// A temporary directory holding the certificate files a router config names
/// (server.pem, server-key.pem, user-ca.pem), plus config files the test writes.
struct ConfigDirectory: ~Copyable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("ServerALPNTests-\(UUID().uuidString)", isDirectory: true).path
        try DevCertificateFiles.initialize(directory: path)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `text` to `name` in the directory and returns the full path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = (path as NSString).appendingPathComponent(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
}

/// The sample configuration from the router's documentation.
enum SampleConfig {
    static let yaml = """
        version: v2
        proxy_service:
          web_listen_addr: 127.0.0.1:3080
          public_addr: [proxy.localhost:3080]
          https_keypairs:
            - { cert_file: server.pem, key_file: server-key.pem }
          client_ca_file: user-ca.pem
          ping_interval: 30s
          handshake_timeout: 15s
        databases:
          - { name: pg1, protocol: postgres, uri: 127.0.0.1:5432 }
        routes:
          - { alpn: [teleport-proxy-ssh], forward: 127.0.0.1:3023 }
          - { sni_prefix: kube-teleport-proxy-alpn., forward_tls: 127.0.0.1:3026 }
          - { alpn_prefix: "teleport-auth@", forward_tls: 127.0.0.1:3025 }
          - { alpn: [http/1.1, h2], forward: 127.0.0.1:8080, client_cert: optional }

        """

    /// The sample with the first line containing `old` replaced by `new` (nil removes it).
    static func replacing(lineContaining old: String, with new: String?) -> String {
        var lines = yaml.components(separatedBy: "\n")
        guard let index = lines.firstIndex(where: { $0.contains(old) }) else { return yaml }
        if let new { lines[index] = new } else { lines.remove(at: index) }
        return lines.joined(separator: "\n")
    }

    /// The 1-based line of the first line of `text` containing `needle`.
    static func line(of needle: String, in text: String) -> Int? {
        text.components(separatedBy: "\n").firstIndex { $0.contains(needle) }.map { $0 + 1 }
    }
}
