import NIOCore
import WireMongo

/// Builders for hand-made messages and documents.
enum Synthetic {
    static func le32(_ value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func le64(_ value: Int64) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    /// A document around raw element bytes: length prefix, elements, NUL.
    static func document(_ elements: [UInt8]) -> [UInt8] {
        le32(Int32(elements.count + 5)) + elements + [0]
    }

    /// A document written with ``BSONWriter``.
    static func document(_ build: (inout BSONWriter) -> Void) -> BSONDocument {
        var writer = BSONWriter()
        build(&writer)
        return writer.finish()
    }

    /// A header (length computed) followed by `body`.
    static func message(_ opCode: MongoOpCode, requestID: Int32 = 7, responseTo: Int32 = 0, body: [UInt8]) -> MongoMessage {
        let header = MongoMessageHeader(
            messageLength: Int32(MongoMessageHeader.size + body.count), requestID: requestID, responseTo: responseTo, opCode: opCode)
        return MongoMessage(header: header, body: ByteBuffer(bytes: body))
    }

    /// An OP_MSG with flagBits 0 and one kind-0 section `{<command>: 1, $db: <database>}`.
    static func command(_ name: String, database: String, flags: UInt32 = 0) -> MongoMessage {
        let body = document { writer in
            writer.append(name, int32: 1)
            writer.append("$db", string: database)
        }
        return message(.msg, body: withUnsafeBytes(of: flags.littleEndian) { Array($0) } + [0] + body.bytes.bytes)
    }

    /// The wire bytes of `message`.
    static func bytes(_ message: MongoMessage) -> [UInt8] {
        var buffer = ByteBuffer()
        message.write(into: &buffer)
        return buffer.bytes
    }
}

/// A reproducible random generator (SplitMix64) for split tests.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
