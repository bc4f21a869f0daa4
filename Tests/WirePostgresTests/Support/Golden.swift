import Foundation
import NIOCore
import WirePostgres

/// The psql / PostgreSQL 15 captures in Tests/Fixtures/wire/postgres (see the README there).
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // WirePostgresTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/wire/postgres", isDirectory: true)

    /// The bytes of `name` (e.g. `trustuser.server.bin`).
    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func buffer(_ name: String) throws -> ByteBuffer {
        ByteBuffer(bytes: try bytes(name))
    }

    /// Every regular message of a server stream, asserting the stream ends on a message boundary.
    static func serverMessages(_ name: String) throws -> [PostgresMessage] {
        var buffer = try buffer(name)
        return try Framing.messages(&buffer)
    }

    /// The startup packet and the regular messages after it of a client stream.
    static func clientStream(_ name: String) throws -> (PostgresStartupPacket, [PostgresMessage]) {
        var buffer = try buffer(name)
        guard let startup = try PostgresStartupDecoder.decode(&buffer) else {
            throw PostgresWireError("\(name) holds no whole startup packet")
        }
        return (startup, try Framing.messages(&buffer))
    }
}

enum Framing {
    /// Decodes messages until `buffer` is empty; throws when bytes are left over.
    static func messages(_ buffer: inout ByteBuffer, maximumLength: Int = PostgresMessageDecoder.defaultMaximumLength) throws -> [PostgresMessage] {
        var decoder = PostgresMessageDecoder(maximumLength: maximumLength)
        var messages: [PostgresMessage] = []
        while let message = try decoder.decode(&buffer) {
            messages.append(message)
        }
        guard buffer.readableBytes == 0 else {
            throw PostgresWireError("\(buffer.readableBytes) bytes left after the last whole message")
        }
        return messages
    }
}

extension UInt8 {
    /// The ASCII character of a type byte, for readable expectations.
    static func ascii(_ character: Character) -> UInt8 { character.asciiValue ?? 0 }
}

extension PostgresMessage {
    var typeCharacter: Character { Character(UnicodeScalar(type)) }
    var bodyBytes: [UInt8] { Array(body.readableBytesView) }
}

extension Array where Element == PostgresMessage {
    var types: String { String(map(\.typeCharacter)) }
}

/// Bytes for hand-built packets.
enum Bytes {
    static func int32(_ value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }

    static func cString(_ string: String) -> [UInt8] { Array(string.utf8) + [0] }

    /// A startup packet with a correct length field around `body` (code included in body).
    static func startupPacket(code: Int32, _ rest: [UInt8]) -> [UInt8] {
        int32(Int32(8 + rest.count)) + int32(code) + rest
    }
}

extension Framing {
    /// Decodes the first message of `buffer` with a default decoder.
    static func first(_ buffer: inout ByteBuffer) throws -> PostgresMessage? {
        var decoder = PostgresMessageDecoder()
        return try decoder.decode(&buffer)
    }
}
