import NIOCore
import Testing
import WirePostgres

/// Regular message framing: type byte, Int32 length counting itself, body.
@Suite("Regular message framing")
struct MessageFramingTests {
    static let stream: [UInt8] = [UInt8(ascii: "Z")] + Bytes.int32(5) + [UInt8(ascii: "I")]
        + [UInt8(ascii: "X")] + Bytes.int32(4)
        + [UInt8(ascii: "Q")] + Bytes.int32(13) + Bytes.cString("select 1")

    static let expected = [
        PostgresMessage(type: .ascii("Z"), body: ByteBuffer(bytes: [UInt8(ascii: "I")])),
        PostgresMessage(type: .ascii("X"), body: ByteBuffer()),
        PostgresMessage(type: .ascii("Q"), body: ByteBuffer(bytes: Bytes.cString("select 1"))),
    ]

    @Test("a stream split at every offset yields the same messages")
    func everySplit() throws {
        for split in 0...Self.stream.count {
            var decoder = PostgresMessageDecoder()
            var buffer = ByteBuffer(bytes: Self.stream.prefix(split))
            var messages: [PostgresMessage] = []
            while let message = try decoder.decode(&buffer) { messages.append(message) }
            buffer.writeBytes(Self.stream.dropFirst(split))
            while let message = try decoder.decode(&buffer) { messages.append(message) }
            #expect(messages == Self.expected, "split at \(split)")
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test("byte by byte: nil until whole, nothing consumed meanwhile")
    func byteByByte() throws {
        var decoder = PostgresMessageDecoder()
        var buffer = ByteBuffer()
        var messages: [PostgresMessage] = []
        for byte in Self.stream {
            buffer.writeInteger(byte)
            let before = buffer.readableBytes
            if let message = try decoder.decode(&buffer) {
                messages.append(message)
            } else {
                #expect(buffer.readableBytes == before)
            }
        }
        #expect(messages == Self.expected)
    }

    @Test("real server streams frame exactly", arguments: [
        "trustuser.server.bin", "alice-scram.server.bin", "md5user.server.bin", "cancel.server.bin",
        "alice-wrong-password.server.bin", "no-database.server.bin",
    ])
    func golden(file: String) throws {
        let messages = try Golden.serverMessages(file)
        var rewritten = ByteBuffer()
        for message in messages { message.write(into: &rewritten) }
        #expect(Array(rewritten.readableBytesView) == (try Golden.bytes(file)))
    }

    @Test("length fields below 4 are rejected", arguments: [Int32(3), 0, -1, Int32.min])
    func tooShort(length: Int32) {
        var decoder = PostgresMessageDecoder()
        var buffer = ByteBuffer(bytes: [UInt8(ascii: "Q")] + Bytes.int32(length))
        let error = #expect(throws: PostgresWireError.self) { try decoder.decode(&buffer) }
        #expect(error?.message.contains("minimum is 4") == true)
    }

    @Test("a length over the maximum is rejected from the 5-byte header alone")
    func overMaximum() throws {
        var decoder = PostgresMessageDecoder(maximumLength: 100)
        var buffer = ByteBuffer(bytes: [UInt8(ascii: "D")] + Bytes.int32(101))
        let error = #expect(throws: PostgresWireError.self) { try decoder.decode(&buffer) }
        #expect(error?.message.contains("maximum of 100") == true)
        var atLimit = ByteBuffer(bytes: [UInt8(ascii: "D")] + Bytes.int32(100) + Array(repeating: 0, count: 96))
        #expect(try decoder.decode(&atLimit)?.body.readableBytes == 96)
    }

    @Test("Int32.max is over the default maximum and rejected before any allocation")
    func hugeDefault() {
        var decoder = PostgresMessageDecoder()
        var buffer = ByteBuffer(bytes: [UInt8(ascii: "d")] + Bytes.int32(Int32.max))
        #expect(throws: PostgresWireError.self) { try decoder.decode(&buffer) }
        #expect(buffer.readableBytes == 5)
        #expect(PostgresMessageDecoder.defaultMaximumLength == 1 << 30)
    }

    @Test("unprintable type bytes are named in hex")
    func unprintableType() {
        var decoder = PostgresMessageDecoder()
        var buffer = ByteBuffer(bytes: [0x01] + Bytes.int32(2))
        let error = #expect(throws: PostgresWireError.self) { try decoder.decode(&buffer) }
        #expect(error?.message.contains("0x01") == true)
    }
}
