import Foundation
import NIOCore

/// The ClientHello records captured from real clients in Tests/Fixtures/wire/tls (see the
/// README there for the commands that produced them).
enum GoldenHello: String, CaseIterable, CustomStringConvertible {
    case opensslSNIALPN = "openssl-sni-alpn"
    case opensslPlain = "openssl-plain"
    case opensslTLS12 = "openssl-tls12-sni-alpn"
    case pythonSSL = "python-ssl-sni-alpn"

    var description: String { rawValue }

    /// The server name the client was told to send.
    var expectedServerName: String? {
        switch self {
        case .opensslSNIALPN, .pythonSSL: "proxy.localhost"
        case .opensslPlain: nil
        case .opensslTLS12: "db.proxy.localhost"
        }
    }

    /// The ALPN list the client was told to offer, in its order.
    var expectedProtocols: [String] {
        switch self {
        case .opensslSNIALPN: ["teleport-postgres-ping", "teleport-postgres"]
        case .opensslPlain: []
        case .opensslTLS12: ["teleport-mysql-ping", "teleport-mysql"]
        case .pythonSSL: ["teleport-mongodb-ping", "teleport-mongodb", "http/1.1"]
        }
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // ServerALPNTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/wire/tls", isDirectory: true)

    var url: URL { Self.directory.appendingPathComponent(rawValue + ".bin") }

    /// The captured bytes: whole TLS records up to the end of the ClientHello.
    func bytes() throws -> [UInt8] {
        Array(try Data(contentsOf: url))
    }

    func buffer() throws -> ByteBuffer {
        ByteBuffer(bytes: try bytes())
    }
}
