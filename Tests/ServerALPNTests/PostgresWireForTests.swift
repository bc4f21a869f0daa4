import Foundation
import NIOCore

// Helpers for the Postgres*Tests suites. This target does not depend on WirePostgres, so
// packets are built and read by hand here, independently of the codecs under test.

/// The psql 15 / PostgreSQL 15 captures in Tests/Fixtures/wire/postgres (see the README there).
enum PGGolden {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ServerALPNTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/wire/postgres", isDirectory: true)

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// psql's SSLRequest (`sslmode=prefer`).
    static func sslRequest() throws -> [UInt8] { try bytes("ssl-prefer.client.bin") }
    /// StartupMessage (user trustuser, database appdb; 82 bytes), Query, Terminate.
    static func trustuserStream() throws -> [UInt8] { try bytes("trustuser.client.bin") }
    /// StartupMessage with database no_such_database (93 bytes).
    static func noDatabaseStartup() throws -> [UInt8] { try bytes("no-database.client.bin") }
    /// psql's CancelRequest (16 bytes).
    static func cancelRequest() throws -> [UInt8] { try bytes("cancel-2.client.bin") }
}

/// Hand-built packets.
enum PGBytes {
    static func int32(_ value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }

    static func cString(_ string: String) -> [UInt8] { Array(string.utf8) + [0] }

    static let sslRequest: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]
    static let gssEncRequest: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x30]
    static let answerN = ByteBuffer(bytes: [0x4E])

    /// A protocol 3.0 StartupMessage with these parameters in this order.
    static func startup(_ parameters: [(String, String)]) -> [UInt8] {
        var body = int32(0x0003_0000)
        for (name, value) in parameters { body += cString(name) + cString(value) }
        body.append(0)
        return int32(Int32(4 + body.count)) + body
    }

    /// A Query message (`Q`).
    static func query(_ sql: String) -> [UInt8] {
        let text = cString(sql)
        return [0x51] + int32(Int32(4 + text.count)) + text
    }

    /// A regular message: type, length counting itself, body.
    static func message(_ type: Character, _ body: [UInt8]) -> [UInt8] {
        [type.asciiValue ?? 0] + int32(Int32(4 + body.count)) + body
    }
}

/// A StartupMessage read by hand: the parameters in wire order, and the bytes after it.
struct PGStartupView: Equatable {
    struct Parameter: Equatable, CustomStringConvertible {
        var name: String
        var value: String
        var description: String { "\(name)=\(value)" }
    }

    var version: Int32
    var parameters: [Parameter]
    var rest: [UInt8]

    subscript(name: String) -> String? { parameters.first { $0.name == name }?.value }

    /// Nil when the bytes do not hold a well-formed StartupMessage.
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 9 else { return nil }
        let length = Int(Self.int32(bytes, 0))
        guard length >= 9, length <= bytes.count, bytes[length - 1] == 0 else { return nil }
        version = Self.int32(bytes, 4)
        var fields: [String] = []
        var start = 8
        while start < length - 1 {
            guard let end = bytes[start..<length].firstIndex(of: 0) else { return nil }
            fields.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = end + 1
        }
        guard start == length - 1, fields.count % 2 == 0 else { return nil }
        parameters = stride(from: 0, to: fields.count, by: 2).map { Parameter(name: fields[$0], value: fields[$0 + 1]) }
        rest = Array(bytes[length...])
    }

    private static func int32(_ bytes: [UInt8], _ at: Int) -> Int32 {
        bytes[at..<at + 4].reduce(Int32(0)) { $0 << 8 | Int32($1) }
    }
}

/// Regular messages read by hand: type byte and body.
struct PGMessageView: Equatable {
    var type: Character
    var body: [UInt8]

    /// Splits `bytes` into whole messages; nil when bytes are left over.
    static func split(_ bytes: [UInt8]) -> [PGMessageView]? {
        var messages: [PGMessageView] = []
        var at = 0
        while at < bytes.count {
            guard at + 5 <= bytes.count else { return nil }
            let length = Int(bytes[at + 1..<at + 5].reduce(Int32(0)) { $0 << 8 | Int32($1) })
            guard length >= 4, at + 1 + length <= bytes.count else { return nil }
            messages.append(PGMessageView(type: Character(UnicodeScalar(bytes[at])), body: Array(bytes[at + 5..<at + 1 + length])))
            at += 1 + length
        }
        return messages
    }

    /// The NUL-terminated strings of an AuthenticationSASL body after its code 10.
    var saslMechanisms: [String]? {
        guard type == "R", body.count >= 5, body[0..<4] == [0, 0, 0, 10], body.last == 0 else { return nil }
        let list = body[4..<body.count - 1].split(separator: 0, omittingEmptySubsequences: false)
        guard list.last?.isEmpty == true else { return nil }
        return list.dropLast().map { String(decoding: $0, as: UTF8.self) }
    }
}

extension ByteBuffer {
    var bytes: [UInt8] { Array(readableBytesView) }
}
