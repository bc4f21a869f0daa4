import NIOCore
import NIOEmbedded
import Testing
import WireMongo

@Suite("Streaming decoder")
struct DecoderTests {
    @Test("a 16-byte message (header only) decodes with an empty body")
    func headerOnly() throws {
        var decoder = MongoMessageDecoder()
        var buffer = ByteBuffer(bytes: Synthetic.bytes(Synthetic.message(.msg, body: [])))
        let message = try #require(try decoder.decode(buffer: &buffer))
        #expect(message.header.messageLength == 16)
        #expect(message.body.readableBytes == 0)
        #expect(buffer.readableBytes == 0)
    }

    @Test("the header is checked before the body arrives: a too-long length throws on 16 bytes")
    func rejectsBeforeBody() throws {
        var decoder = MongoMessageDecoder(limits: MongoMessageLimits(maximumLength: 1000))
        var buffer = ByteBuffer()
        HeaderTests.header(length: 1001).write(into: &buffer)
        #expect(throws: MongoWireError.messageTooLong(length: 1001, limit: 1000)) { try decoder.decode(buffer: &buffer) }
        var short = ByteBuffer()
        HeaderTests.header(length: 15).write(into: &short)
        #expect(throws: MongoWireError.messageTooShort(length: 15)) { try decoder.decode(buffer: &short) }
        var unknown = ByteBuffer()
        HeaderTests.header(length: 16, opCode: .unknown(2010)).write(into: &unknown)
        #expect(throws: MongoWireError.unknownOpCode(2010)) { try decoder.decode(buffer: &unknown) }
    }

    @Test("exactly the maximum decodes; one byte more throws")
    func maximumEdge() throws {
        var decoder = MongoMessageDecoder(limits: MongoMessageLimits(maximumLength: 64))
        var buffer = ByteBuffer(bytes: Synthetic.bytes(Synthetic.message(.msg, body: [UInt8](repeating: 1, count: 48))))
        #expect(try decoder.decode(buffer: &buffer)?.body.readableBytes == 48)
        buffer = ByteBuffer(bytes: Synthetic.bytes(Synthetic.message(.msg, body: [UInt8](repeating: 1, count: 49))))
        #expect(throws: MongoWireError.messageTooLong(length: 65, limit: 64)) { try decoder.decode(buffer: &buffer) }
        decoder.limits.maximumLength = 65  // raised after a hello
        #expect(try decoder.decode(buffer: &buffer)?.body.readableBytes == 49)
    }

    @Test("a partial message consumes nothing; split at every offset it decodes once whole")
    func splitAtEveryOffset() throws {
        let bytes = try Golden.bytes("plain.client.bin")
        let whole = try Golden.messages("plain.client.bin")
        for cut in stride(from: 0, through: bytes.count, by: 7) {
            var decoder = MongoMessageDecoder()
            var buffer = ByteBuffer(bytes: bytes[..<cut])
            var messages: [MongoMessage] = []
            while let message = try decoder.decode(buffer: &buffer) { messages.append(message) }
            buffer.writeBytes(bytes[cut...])
            while let message = try decoder.decode(buffer: &buffer) { messages.append(message) }
            #expect(messages == whole, "cut at \(cut)")
        }
    }

    @Test("end of stream inside a message is truncated; at a boundary it is fine")
    func decodeLast() throws {
        var decoder = MongoMessageDecoder()
        var partial = ByteBuffer(bytes: Array(try Golden.bytes("find.client.bin").dropLast()))
        #expect(try decoder.decodeLast(buffer: &partial, seenEOF: false) == nil)
        #expect(throws: MongoWireError.self) { try decoder.decodeLast(buffer: &partial, seenEOF: true) }
        var empty = ByteBuffer()
        #expect(try decoder.decodeLast(buffer: &empty, seenEOF: true) == nil)
    }

    @Test("in a channel pipeline it emits whole messages and fires the error for a bad header")
    func pipeline() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(MongoMessageDecoder()))
        let bytes = try Golden.bytes("zlib.server.bin")
        for chunk in stride(from: 0, to: bytes.count, by: 10) {
            try channel.writeInbound(ByteBuffer(bytes: bytes[chunk..<min(chunk + 10, bytes.count)]))
        }
        var headers: [MongoMessageHeader] = []
        while let message = try channel.readInbound(as: MongoMessage.self) { headers.append(message.header) }
        #expect(headers == (try Golden.messages("zlib.server.bin")).map(\.header))
        #expect(throws: MongoWireError.messageTooShort(length: 3)) {
            try channel.writeInbound(ByteBuffer(bytes: Synthetic.le32(3) + [UInt8](repeating: 0, count: 12)))
        }
        _ = try? channel.finish()
    }
}
