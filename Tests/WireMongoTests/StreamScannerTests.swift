import NIOCore
import Testing
import WireMongo

@Suite("Stream scanner")
struct StreamScannerTests {
    static let streams = [
        "plain.client.bin", "plain.server.bin", "zlib.client.bin", "zlib.server.bin", "legacy.client.bin", "legacy.server.bin",
        "handshake-query.client.bin", "find-checksum.client.bin",
    ]

    /// Feeds `bytes` cut at `cuts` and returns every header seen and the per-chunk counts' sum.
    static func scan(_ bytes: [UInt8], cuts: [Int]) throws -> [MongoMessageHeader] {
        var scanner = MongoStreamScanner(limits: MongoMessageLimits())
        var headers: [MongoMessageHeader] = []
        var counted = 0
        var start = 0
        for end in cuts + [bytes.count] where end >= start {
            counted += try scanner.scan(ByteBuffer(bytes: bytes[start..<end])) { headers.append($0) }
            start = end
        }
        #expect(counted == headers.count)
        #expect(scanner.messageCount == headers.count)
        #expect(scanner.isAtMessageBoundary)
        return headers
    }

    @Test("1-byte chunks report the same headers as the decoder", arguments: streams)
    func oneByteChunks(stream: String) throws {
        let bytes = try Golden.bytes(stream)
        let expected = try Golden.messages(stream).map(\.header)
        #expect(try Self.scan(bytes, cuts: Array(1..<bytes.count)) == expected)
        #expect(try Self.scan(bytes, cuts: []) == expected)
    }

    @Test("200 random splits of each golden report the same headers", arguments: streams)
    func randomSplits(stream: String) throws {
        let bytes = try Golden.bytes(stream)
        let expected = try Golden.messages(stream).map(\.header)
        var generator = SeededGenerator(state: UInt64(bytes.count))
        for _ in 0..<200 {
            let cutCount = Int.random(in: 0...12, using: &generator)
            let cuts = (0..<cutCount).map { _ in Int.random(in: 0...bytes.count, using: &generator) }.sorted()
            #expect(try Self.scan(bytes, cuts: cuts) == expected, "cuts \(cuts)")
        }
    }

    @Test("a bad header split over chunks throws when its 16th byte arrives, and the scanner stays broken")
    func badHeaderSplit() throws {
        var bytes = try Golden.bytes("find.client.bin")
        bytes += Synthetic.le32(48_000_001) + Synthetic.le32(1) + Synthetic.le32(0) + Synthetic.le32(2013)
        var scanner = MongoStreamScanner(limits: MongoMessageLimits())
        #expect(try scanner.scan(ByteBuffer(bytes: bytes[..<130])) == 1)
        #expect(!scanner.isAtMessageBoundary)
        #expect(throws: MongoWireError.messageTooLong(length: 48_000_001, limit: 48_000_000)) {
            try scanner.scan(ByteBuffer(bytes: bytes[130...]))
        }
        #expect(throws: MongoWireError.messageTooLong(length: 48_000_001, limit: 48_000_000)) {
            try scanner.scan(ByteBuffer(bytes: try Golden.bytes("find.client.bin")))
        }
    }

    @Test("short, negative and unknown-opcode headers throw", arguments: [
        (Int32(15), Int32(2013), MongoWireError.messageTooShort(length: 15)),
        (Int32(-16), Int32(2013), MongoWireError.messageTooShort(length: -16)),
        (Int32(16), Int32(2010), MongoWireError.unknownOpCode(2010)),
    ])
    func badHeaders(length: Int32, opCode: Int32, error: MongoWireError) throws {
        var scanner = MongoStreamScanner(limits: MongoMessageLimits())
        let header = Synthetic.le32(length) + Synthetic.le32(1) + Synthetic.le32(0) + Synthetic.le32(opCode)
        #expect(throws: error) { try scanner.scan(ByteBuffer(bytes: header)) }
    }

    @Test("a body split over many chunks is skipped and the next header found; raising the limit mid-stream works")
    func skipsBodies() throws {
        let big = Synthetic.bytes(Synthetic.message(.msg, body: [UInt8](repeating: 0xAA, count: 5000)))
        let small = Synthetic.bytes(Synthetic.message(.msg, body: [1, 2, 3]))
        var scanner = MongoStreamScanner(limits: MongoMessageLimits(maximumLength: 100))
        #expect(try scanner.scan(ByteBuffer(bytes: small)) == 1)
        #expect(throws: MongoWireError.messageTooLong(length: 5016, limit: 100)) {
            var probe = scanner
            _ = try probe.scan(ByteBuffer(bytes: big))
        }
        scanner.limits.maximumLength = 10_000
        var count = 0
        let stream = big + small
        for start in stride(from: 0, to: stream.count, by: 333) {
            count += try scanner.scan(ByteBuffer(bytes: stream[start..<min(start + 333, stream.count)]))
        }
        #expect(count == 2)
        #expect(scanner.messageCount == 3)
        #expect(scanner.isAtMessageBoundary)
    }
}
