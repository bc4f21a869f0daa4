import NIOCore
import Testing
import WireMongo

@Suite("OP_COMPRESSED: noop, zlib, snappy")
struct CompressionTests {
    typealias S = Synthetic
    static let limits = MongoMessageLimits()

    /// The body of the golden find OP_MSG (109 bytes).
    static func findBody() throws -> [UInt8] { try Golden.messages("find.client.bin")[0].body.bytes }

    static func compressed(original: MongoOpCode = .msg, size: Int32, compressor: UInt8, _ payload: [UInt8]) -> MongoMessage {
        S.message(.compressed, requestID: 99, responseTo: 5, body: S.le32(original.rawValue) + S.le32(size) + [compressor] + payload)
    }

    static func expectError(_ expected: MongoWireError, _ message: MongoMessage, limits: MongoMessageLimits = limits,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: expected, sourceLocation: sourceLocation) { try MongoCommandReader.summary(of: message, limits: limits) }
    }

    @Test("noop and zlib wrap the golden find; the inner header keeps the IDs")
    func roundTrips() throws {
        let body = try Self.findBody()
        for message in [
            Self.compressed(size: Int32(body.count), compressor: 0, body),
            Self.compressed(size: Int32(body.count), compressor: 2, zlibCompressed(body)),
            Self.compressed(size: Int32(body.count), compressor: 2, zlibCompressed(body) + [1, 2, 3]),  // trailing bytes ignored
        ] {
            let inner = try MongoOpCompressed(decoding: message).decompressed(limits: Self.limits)
            #expect(inner.header == MongoMessageHeader(messageLength: 125, requestID: 99, responseTo: 5, opCode: .msg))
            #expect(inner.body.bytes == body)
            #expect(try MongoCommandReader.summary(of: message, limits: Self.limits) == MongoCommandSummary(commandName: "find", database: "appdb"))
        }
    }

    @Test("a large zlib body inflates across output chunks to exactly its declared size")
    func largeZlib() throws {
        var generator = SeededGenerator(state: 7)
        let body = [0, 0, 0, 0, 0] + (0..<300_000).map { _ in UInt8.random(in: 0...3, using: &generator) }
        let message = Self.compressed(size: Int32(body.count), compressor: 2, zlibCompressed(body))
        #expect(try MongoOpCompressed(decoding: message).decompressed(limits: Self.limits).body.bytes == body)
    }

    @Test("a zlib payload declaring more than the limit is refused before inflating")
    func declaredSizeOverLimit() throws {
        let bomb = zlibCompressed([UInt8](repeating: 0, count: 2_000_000), level: 9)
        #expect(bomb.count < 5000)
        let limits = MongoMessageLimits(maximumLength: 1_000_000)
        Self.expectError(.uncompressedSizeTooLarge(declared: 2_000_000, limit: 1_000_000),
                         Self.compressed(size: 2_000_000, compressor: 2, bomb), limits: limits)
        Self.expectError(.uncompressedSizeTooLarge(declared: .max, limit: 48_000_000), Self.compressed(size: .max, compressor: 2, bomb))
        Self.expectError(.uncompressedSizeTooLarge(declared: 47_999_985, limit: 48_000_000), Self.compressed(size: 47_999_985, compressor: 0, []))
        #expect(throws: MongoWireError.self) { try MongoCommandReader.summary(of: Self.compressed(size: -1, compressor: 2, bomb), limits: limits) }
    }

    @Test("a zlib payload inflating past its declared size stops one byte after it")
    func inflatesPastDeclared() throws {
        let bomb = zlibCompressed([UInt8](repeating: 0, count: 2_000_000), level: 9)
        Self.expectError(.decompressedSizeMismatch(expected: 1000, actual: 1001), Self.compressed(size: 1000, compressor: 2, bomb))
        Self.expectError(.decompressedSizeMismatch(expected: 100_000, actual: 100_001), Self.compressed(size: 100_000, compressor: 2, bomb))
        let body = try Self.findBody()
        Self.expectError(.decompressedSizeMismatch(expected: 200, actual: 109), Self.compressed(size: 200, compressor: 2, zlibCompressed(body)))
    }

    @Test("corrupt and cut zlib streams throw")
    func corruptZlib() throws {
        let packed = zlibCompressed(try Self.findBody())
        #expect(throws: MongoWireError.self) { try MongoCommandReader.summary(of: Self.compressed(size: 109, compressor: 2, Array(packed.dropLast(8))), limits: Self.limits) }
        #expect(throws: MongoWireError.self) { try MongoCommandReader.summary(of: Self.compressed(size: 109, compressor: 2, [0x78, 0x9C, 0xFF, 0xFF]), limits: Self.limits) }
        #expect(throws: MongoWireError.self) { try MongoCommandReader.summary(of: Self.compressed(size: 109, compressor: 2, []), limits: Self.limits) }
        #expect(throws: MongoWireError.self) { try MongoCommandReader.summary(of: Self.compressed(size: 109, compressor: 2, [1, 2, 3, 4]), limits: Self.limits) }
    }

    @Test("zstd and unknown compressors are unsupported; short headers and nesting throw")
    func unsupported() throws {
        Self.expectError(.unsupportedCompressor(3), Self.compressed(size: 10, compressor: 3, [1, 2]))
        Self.expectError(.unsupportedCompressor(9), Self.compressed(size: 10, compressor: 9, [1, 2]))
        Self.expectError(.decompressedSizeMismatch(expected: 10, actual: 2), Self.compressed(size: 10, compressor: 0, [1, 2]))
        #expect(throws: MongoWireError.self) { try MongoCommandReader.summary(of: S.message(.compressed, body: S.le32(2013) + S.le32(1)), limits: Self.limits) }
        let inner = Synthetic.bytes(Self.compressed(size: 0, compressor: 0, [])).dropFirst(16)
        Self.expectError(.malformed("OP_COMPRESSED: it wraps another OP_COMPRESSED"),
                         Self.compressed(original: .compressed, size: Int32(inner.count), compressor: 0, Array(inner)))
        Self.expectError(.unknownOpCode(2010), Self.compressed(original: .unknown(2010), size: 0, compressor: 0, []))
    }

    // MARK: snappy (hand-encoded raw format)

    static func literal(_ bytes: [UInt8]) -> [UInt8] {
        let length = bytes.count - 1
        if length < 60 { return [UInt8(length << 2)] + bytes }
        if length < 256 { return [60 << 2, UInt8(length)] + bytes }
        return [61 << 2, UInt8(length & 0xFF), UInt8(length >> 8)] + bytes
    }

    static func copy1(offset: Int, length: Int) -> [UInt8] {
        [UInt8(1 | (length - 4) << 2 | (offset >> 8) << 5), UInt8(offset & 0xFF)]
    }

    static func copy2(offset: Int, length: Int) -> [UInt8] {
        [UInt8(2 | (length - 1) << 2), UInt8(offset & 0xFF), UInt8(offset >> 8)]
    }

    static func copy4(offset: Int, length: Int) -> [UInt8] {
        [UInt8(3 | (length - 1) << 2)] + S.le32(Int32(offset))
    }

    static func varint(_ value: Int) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F | 0x80))
            value >>= 7
        }
        return bytes + [UInt8(value)]
    }

    static func snappy(_ size: Int, _ elements: [UInt8]...) -> [UInt8] { varint(size) + elements.flatMap { $0 } }

    static func unsnappy(_ payload: [UInt8], size: Int) throws -> [UInt8] {
        try MongoOpCompressed(decoding: compressed(size: Int32(size), compressor: 1, payload)).decompressed(limits: limits).body.bytes
    }

    @Test("snappy literals (short and long) and copies (1-, 2-, 4-byte offsets, overlapping)")
    func snappyElements() throws {
        let body = try Self.findBody()
        #expect(try Self.unsnappy(Self.snappy(body.count, Self.literal(body)), size: body.count) == body)
        #expect(try Self.unsnappy(Self.snappy(body.count, Self.literal(Array(body[..<50])), Self.literal(Array(body[50...]))), size: body.count) == body)
        let abc = Array("abc".utf8)
        #expect(try Self.unsnappy(Self.snappy(12, Self.literal(abc), Self.copy1(offset: 3, length: 9)), size: 12) == abc + abc + abc + abc)
        #expect(try Self.unsnappy(Self.snappy(8, Self.literal(abc), Self.copy2(offset: 2, length: 5)), size: 8) == Array("abcbcbcb".utf8))
        #expect(try Self.unsnappy(Self.snappy(7, Self.literal(abc), Self.copy4(offset: 3, length: 4)), size: 7) == Array("abcabca".utf8))
        let long = [UInt8](repeating: 0x5A, count: 300)
        #expect(try Self.unsnappy(Self.snappy(300, Self.literal(long)), size: 300) == long)
        #expect(try Self.unsnappy(Self.snappy(0), size: 0) == [])
        let message = Self.compressed(size: Int32(body.count), compressor: 1, Self.snappy(body.count, Self.literal(body)))
        #expect(try MongoCommandReader.summary(of: message, limits: Self.limits) == MongoCommandSummary(commandName: "find", database: "appdb"))
    }

    @Test("snappy: copy offsets before the start, zero offsets, overruns and cuts throw")
    func snappyErrors() throws {
        let abc = Array("abc".utf8)
        func expectThrows(_ payload: [UInt8], size: Int, _ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(throws: MongoWireError.self, comment, sourceLocation: sourceLocation) { try Self.unsnappy(payload, size: size) }
        }
        #expect(throws: MongoWireError.malformed("OP_COMPRESSED snappy payload: copy offset 4 points before the start of the 3 bytes produced")) {
            try Self.unsnappy(Self.snappy(7, Self.literal(abc), Self.copy1(offset: 4, length: 4)), size: 7)
        }
        expectThrows(Self.snappy(4, Self.copy1(offset: 1, length: 4)), size: 4, "copy before any output")
        expectThrows(Self.snappy(7, Self.literal(abc), Self.copy2(offset: 0, length: 4)), size: 7, "offset 0")
        expectThrows(Self.snappy(7, Self.literal(abc), Self.copy4(offset: 70_000, length: 4)), size: 7, "4-byte offset far before")
        #expect(throws: MongoWireError.decompressedSizeMismatch(expected: 5, actual: 6)) {
            try Self.unsnappy(Self.snappy(5, Self.literal(abc), Self.copy1(offset: 3, length: 4)), size: 5)
        }
        expectThrows(Self.snappy(5, Self.literal(abc + abc)), size: 5, "literal past the declared size")
        #expect(throws: MongoWireError.decompressedSizeMismatch(expected: 9, actual: 3)) {
            try Self.unsnappy(Self.snappy(9, Self.literal(abc)), size: 9)
        }
        #expect(throws: MongoWireError.decompressedSizeMismatch(expected: 9, actual: 8)) {
            try Self.unsnappy(Self.snappy(8, Self.literal(abc)), size: 9)
        }
        expectThrows(Self.snappy(3, [8, 0x61]), size: 3, "literal cut")
        expectThrows(Self.snappy(3, [60 << 2]), size: 3, "long literal length cut")
        expectThrows(Self.snappy(7, Self.literal(abc), [1]), size: 7, "copy-1 offset cut")
        expectThrows(Self.snappy(7, Self.literal(abc), [2, 3]), size: 7, "copy-2 offset cut")
        expectThrows([0x80, 0x80], size: 3, "preamble cut")
        expectThrows([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], size: 3, "preamble over 32 bits")
        expectThrows([], size: 0, "empty payload")
    }
}
