import Foundation
import NIOCore
import WireMongo

/// The pymongo captures in Tests/Fixtures/wire/mongo (see the README there).
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // WireMongoTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/wire/mongo", isDirectory: true)

    /// The bytes of `name` (e.g. `handshake.client.bin`).
    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// Every message of a capture, asserting it ends on a message boundary.
    static func messages(_ name: String, limits: MongoMessageLimits = .init()) throws -> [MongoMessage] {
        var buffer = ByteBuffer(bytes: try bytes(name))
        return try Framing.messages(&buffer, limits: limits)
    }
}

enum Framing {
    struct LeftOver: Error { var count: Int }

    /// Decodes messages until `buffer` is empty; throws when bytes are left over.
    static func messages(_ buffer: inout ByteBuffer, limits: MongoMessageLimits = .init()) throws -> [MongoMessage] {
        var decoder = MongoMessageDecoder(limits: limits)
        var messages: [MongoMessage] = []
        while let message = try decoder.decode(buffer: &buffer) {
            messages.append(message)
        }
        guard buffer.readableBytes == 0 else { throw LeftOver(count: buffer.readableBytes) }
        return messages
    }
}

extension ByteBuffer {
    var bytes: [UInt8] { Array(readableBytesView) }
}
