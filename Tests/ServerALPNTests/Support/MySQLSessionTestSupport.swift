import Foundation
import NIOCore
import ProxyCore
import WireMySQL

@testable import ServerALPN

/// The bytes a real MariaDB 10.11 and its `mariadb` client exchanged, from
/// Tests/Fixtures/wire/mysql (see the README there).
enum MySQLGolden {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // ServerALPNTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/wire/mysql", isDirectory: true)

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name + ".bin")))
    }

    /// Every frame of a capture, each with its header, in order.
    static func frames(_ name: String) throws -> [[UInt8]] {
        var rest = try bytes(name)[...]
        var frames: [[UInt8]] = []
        while rest.count >= 4 {
            let length = Int(rest[rest.startIndex]) | Int(rest[rest.startIndex + 1]) << 8 | Int(rest[rest.startIndex + 2]) << 16
            let end = min(rest.endIndex, rest.startIndex + 4 + length)
            frames.append(Array(rest[rest.startIndex..<end]))
            rest = rest[end...]
        }
        return frames
    }

    /// The greeting (sequence 0, 100 bytes, CLIENT_SSL offered), framed.
    static func greeting() throws -> [UInt8] { try frames("alice.server")[0] }
    /// alice's HandshakeResponse41 (sequence 1, no CLIENT_SSL, database `appdb`), framed.
    static func response() throws -> [UInt8] { try frames("alice.client")[0] }
    /// The OK for alice (sequence 2), framed.
    static func ok() throws -> [UInt8] { try frames("alice.server")[1] }
    /// ERR 1045 28000 for a wrong password (sequence 2), framed.
    static func accessDenied() throws -> [UInt8] { try frames("alice-wrong-password.server")[1] }
}

/// Framing and parsing for the tests.
enum MySQLBytes {
    static func frame(_ payload: [UInt8], sequence: UInt8) -> [UInt8] {
        var buffer = ByteBuffer()
        MySQLPacket(sequenceID: sequence, payload: ByteBuffer(bytes: payload)).write(into: &buffer)
        return buffer.bytes
    }

    /// The frames of `bytes`; fails the caller's expectation by returning nil when bytes are left.
    static func packets(_ bytes: [UInt8]) -> [MySQLPacket]? {
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = MySQLPacketDecoder()
        var packets: [MySQLPacket] = []
        while let packet = try? decoder.decode(&buffer) { packets.append(packet) }
        return buffer.readableBytes == 0 ? packets : nil
    }

    /// The one frame `bytes` holds, or nil.
    static func packet(_ bytes: [UInt8]) -> MySQLPacket? {
        guard let packets = packets(bytes), packets.count == 1 else { return nil }
        return packets[0]
    }

    /// `frame` with its sequence id replaced.
    static func renumbered(_ frame: [UInt8], _ sequence: UInt8) -> [UInt8] {
        var copy = frame
        copy[3] = sequence
        return copy
    }

    static func error(code: UInt16, state: String, message: String, sequence: UInt8) -> [UInt8] {
        var payload = ByteBuffer()
        MySQLErrorPacket(code: code, sqlState: state, message: message).write(into: &payload)
        return frame(payload.bytes, sequence: sequence)
    }
}

/// A framed ERR packet as the tests look at it.
struct MySQLFailureView: Equatable, CustomStringConvertible {
    var sequence: UInt8
    var code: UInt16
    var sqlState: String
    var message: String
    var reason: String
    var description: String { "#\(sequence) \(code) \(sqlState) \(message) (reason: \(reason))" }
}

extension MySQLRouterSession.Action {
    var toClient: [UInt8]? {
        if case .sendToClient(let bytes) = self { return bytes.bytes }
        return nil
    }

    var toBackend: [UInt8]? {
        if case .sendToBackend(let bytes) = self { return bytes.bytes }
        return nil
    }

    var splice: (toBackend: [UInt8], toClient: [UInt8])? {
        if case .splice(let toBackend, let toClient) = self { return (toBackend.bytes, toClient.bytes) }
        return nil
    }

    var closeReason: String? {
        if case .close(let reason) = self { return reason }
        return nil
    }

    /// The ERR packet of a `fail`, parsed; nil for other actions or an unreadable packet.
    var failure: MySQLFailureView? {
        guard case .fail(let bytes, let reason) = self, let packet = MySQLBytes.packet(bytes.bytes),
              let error = try? MySQLErrorPacket(decoding: packet.payload)
        else { return nil }
        return MySQLFailureView(sequence: packet.sequenceID, code: error.code, sqlState: error.sqlState, message: error.message, reason: reason)
    }
}

/// Identities as a router sees them after the client's certificate was checked.
enum MySQLIdentity {
    static func make(user: String = "", database: String = "", allowedUsers: [String] = [], allowedDatabases: [String] = []) -> CertificateIdentity {
        CertificateIdentity(
            username: "alice@example.com",
            routeToDatabase: RouteToDatabase(serviceName: "mariadb", protocolName: "mysql", username: user, database: database),
            allowedDatabaseNames: allowedDatabases, allowedDatabaseUsers: allowedUsers,
            notBefore: .distantPast, notAfter: .distantFuture)
    }
}
