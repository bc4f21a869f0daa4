import NIOCore
import Testing
import WireMongo

@Suite("Message header and limits")
struct HeaderTests {
    static let opCodes: [(MongoOpCode, Int32)] = [
        (.reply, 1), (.update, 2001), (.insert, 2002), (.query, 2004), (.getMore, 2005), (.delete, 2006),
        (.killCursors, 2007), (.compressed, 2012), (.msg, 2013),
    ]

    @Test("opcodes map to their header values and back")
    func opCodeValues() {
        for (code, raw) in Self.opCodes {
            #expect(code.rawValue == raw)
            #expect(MongoOpCode(rawValue: raw) == code)
            #expect(code.isKnown)
        }
        #expect(MongoOpCode(rawValue: 2010) == .unknown(2010))
        #expect(!MongoOpCode.unknown(2010).isKnown)
        #expect(MongoOpCode.unknown(2013) == .msg)  // equal by header value
        #expect(MongoOpCode.msg.description == "OP_MSG")
        #expect(MongoOpCode.unknown(-3).description == "opcode -3")
    }

    @Test("the header is four little-endian int32s; peek needs all 16 bytes and consumes nothing")
    func headerBytes() throws {
        let header = MongoMessageHeader(messageLength: 0x0102_0304, requestID: -2, responseTo: 0x7FFF_FFFF, opCode: .msg)
        var buffer = ByteBuffer()
        header.write(into: &buffer)
        #expect(buffer.bytes == [4, 3, 2, 1, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0xDD, 0x07, 0, 0])
        #expect(MongoMessageHeader.peek(in: buffer) == header)
        #expect(buffer.readableBytes == 16)
        #expect(MongoMessageHeader.peek(in: buffer.getSlice(at: 0, length: 15) ?? ByteBuffer()) == nil)
        #expect(MongoMessageHeader.peek(in: ByteBuffer()) == nil)
    }

    static func header(length: Int32, opCode: MongoOpCode = .msg) -> MongoMessageHeader {
        MongoMessageHeader(messageLength: length, requestID: 1, responseTo: 0, opCode: opCode)
    }

    @Test("limits: 15 and negative are too short, 16 and the maximum pass, maximum + 1 is too long")
    func lengthEdges() throws {
        let limits = MongoMessageLimits()
        #expect(limits.maximumLength == 48_000_000)
        #expect(throws: MongoWireError.messageTooShort(length: 15)) { try limits.validate(Self.header(length: 15)) }
        #expect(throws: MongoWireError.messageTooShort(length: 0)) { try limits.validate(Self.header(length: 0)) }
        #expect(throws: MongoWireError.messageTooShort(length: -1)) { try limits.validate(Self.header(length: -1)) }
        #expect(throws: MongoWireError.messageTooShort(length: .min)) { try limits.validate(Self.header(length: .min)) }
        try limits.validate(Self.header(length: 16))
        try limits.validate(Self.header(length: 48_000_000))
        #expect(throws: MongoWireError.messageTooLong(length: 48_000_001, limit: 48_000_000)) {
            try limits.validate(Self.header(length: 48_000_001))
        }
        #expect(throws: MongoWireError.messageTooLong(length: .max, limit: 48_000_000)) {
            try limits.validate(Self.header(length: .max))
        }
        let raised = MongoMessageLimits(maximumLength: 96_000_000)
        try raised.validate(Self.header(length: 48_000_001))
    }

    @Test("limits: every named opcode passes, others are unknown", arguments: [0, 2, 1000, 2000, 2003, 2008, 2010, 2011, 2014, -1])
    func unknownOpCodes(raw: Int32) throws {
        let limits = MongoMessageLimits()
        #expect(throws: MongoWireError.unknownOpCode(raw)) {
            try limits.validate(Self.header(length: 16, opCode: MongoOpCode(rawValue: raw)))
        }
        for (code, _) in Self.opCodes { try limits.validate(Self.header(length: 16, opCode: code)) }
    }

    @Test("error descriptions are sentences naming the numbers")
    func descriptions() {
        #expect(MongoWireError.messageTooLong(length: 50_000_000, limit: 48_000_000).description.contains("50000000 is over the limit of 48000000"))
        #expect(MongoWireError.messageTooShort(length: -5).description.contains("-5"))
        #expect(MongoWireError.checksumMismatch(expected: 0xAB, actual: 0xE306_9283).description.contains("0x000000AB"))
        #expect(MongoWireError.unsupportedCompressor(3).description.contains("zstd"))
        #expect(MongoWireError.decompressedSizeMismatch(expected: 10, actual: 11).description.contains("more than 10"))
        #expect(MongoWireError.unknownOpCode(2010).description.contains("2010"))
    }
}
