import Foundation
import NIOCore

/// Captured bytes from Tests/Fixtures/wire (see the README files there).
enum Golden {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // LocalDBProxyTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/wire", isDirectory: true)

    /// A psql 15 / PostgreSQL 15 capture, e.g. `trustuser.client.bin`.
    static func postgres(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtures.appendingPathComponent("postgres/" + name)))
    }

    /// A captured TLS ClientHello, e.g. `openssl-sni-alpn.bin`.
    static func tls(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtures.appendingPathComponent("tls/" + name)))
    }

    /// psql's SSLRequest (`sslmode=prefer`).
    static func sslRequest() throws -> [UInt8] { try postgres("ssl-prefer.client.bin") }

    /// psql's StartupMessage (82 bytes) followed by Query `select 1` and Terminate.
    static func trustuserStream() throws -> [UInt8] { try postgres("trustuser.client.bin") }

    /// psql's CancelRequest (16 bytes).
    static func cancelRequest() throws -> [UInt8] { try postgres("cancel-2.client.bin") }
}

/// Hand-built packets.
enum Packet {
    static func int32(_ value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }

    /// A GSSENCRequest: length 8, code 80877104.
    static let gssEncRequest: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x30]
    /// An SSLRequest: length 8, code 80877103.
    static let sslRequest: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]
}

extension ByteBuffer {
    var bytes: [UInt8] { Array(readableBytesView) }
}
