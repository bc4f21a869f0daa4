import Foundation
import Logging
import NIOCore
import ProxyCore
import ServerALPN

/// A router started in this process from a YAML file, written with the test PKI's files into a
/// temporary directory, so the configuration vocabulary is exercised end to end.
struct ConfiguredRouter {
    let directory: String
    let router: Router
    let port: Int
    let events = EventRecorder<RouterEvent>()
    let log: CapturedLog

    /// `sections`: YAML appended after `proxy_service` (routes, databases, clusters, ...).
    /// `extraKeypairs` follow the PKI's server certificate in `https_keypairs`.
    static func start(pki: TestPKI, extraKeypairs: [IssuedCertificate] = [], sections: String) async throws -> ConfiguredRouter {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-router-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try DevCertificateFiles.write(try pki.server.certificatePEM, to: directory + "/server.pem", secret: false)
        try DevCertificateFiles.write(pki.server.privateKeyPEM, to: directory + "/server-key.pem", secret: true)
        try DevCertificateFiles.write(try pki.userCA.ca.certificatePEM, to: directory + "/user-ca.pem", secret: false)
        var keypairLines = ["    - { cert_file: server.pem, key_file: server-key.pem }"]
        for (index, keypair) in extraKeypairs.enumerated() {
            try DevCertificateFiles.write(try keypair.certificatePEM, to: directory + "/extra-\(index).pem", secret: false)
            try DevCertificateFiles.write(keypair.privateKeyPEM, to: directory + "/extra-\(index)-key.pem", secret: true)
            keypairLines.append("    - { cert_file: extra-\(index).pem, key_file: extra-\(index)-key.pem }")
        }
        let yaml = """
            version: v2
            proxy_service:
              web_listen_addr: 127.0.0.1:0
              https_keypairs:
            \(keypairLines.joined(separator: "\n"))
              client_ca_file: user-ca.pem
              connect_timeout: 5s

            """ + sections
        let file = directory + "/router.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let configuration = try RouterConfigFile.load(path: file)
        let log = CapturedLog()
        let router = Router(configuration: configuration, logger: Logger(label: "test.router") { _ in log.handler() })
        let address = try await router.start()
        let started = ConfiguredRouter(directory: directory, router: router, port: address.port ?? 0, log: log)
        started.events.record(router.events)
        return started
    }

    func stop() async {
        await router.stop(deadline: .now() + .seconds(1))
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The reason of the first rejection event.
    func firstRejection() async throws -> RouterRejection {
        try await events.first { event -> RouterRejection? in
            if case .rejected(_, _, let reason, _) = event { return reason }
            return nil
        }
    }

    /// Every routed connection so far (waits for at least `count`).
    func routed(atLeast count: Int) async throws -> [RoutedConnection] {
        try await events.matches(atLeast: count) { event -> RoutedConnection? in
            if case .routed(let connection) = event { return connection }
            return nil
        }
    }
}

/// Log lines kept in memory (info and above), each as its message followed by its metadata.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    var lines: [String] { lock.withLock { stored } }

    func append(_ line: String) { lock.withLock { stored.append(line) } }

    func handler() -> CapturedLogHandler { CapturedLogHandler(log: self) }
}

struct CapturedLogHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        log.append("\(event.level) \(event.message) \(fields)")
    }
}
