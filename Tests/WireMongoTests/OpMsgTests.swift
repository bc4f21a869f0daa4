import NIOCore
import Testing
import WireMongo

@Suite("OP_MSG sections, flags and checksum")
struct OpMsgTests {
    typealias S = Synthetic
    static let limits = MongoMessageLimits()
    static let body = S.document { $0.append("ping", int32: 1); $0.append("$db", string: "admin") }.bytes.bytes

    static func opMsg(flags: UInt32 = 0, _ sections: [UInt8]) -> MongoMessage {
        S.message(.msg, body: withUnsafeBytes(of: flags.littleEndian) { Array($0) } + sections)
    }

    static func expectMalformed(_ message: MongoMessage, _ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: MongoWireError.self, comment, sourceLocation: sourceLocation) {
            try MongoCommandReader.summary(of: message, limits: limits)
        }
    }

    @Test("a kind-1 section bigger than the message throws truncated")
    func sequenceBiggerThanMessage() throws {
        let sequence = [1] + S.le32(1000) + S.cString("documents") + S.document([])
        let message = Self.opMsg([0] + Self.body + sequence)
        #expect(throws: MongoWireError.self) { try MongoOpMsg(decoding: message) }
        do {
            _ = try MongoOpMsg(decoding: message)
        } catch {
            guard case .truncated(let what) = error else { Issue.record("expected truncated, got \(error)"); return }
            #expect(what.contains("size 1000"))
        }
    }

    @Test("malformed sections and flags throw")
    func malformedSections() {
        let docs = S.document([]) + S.document([])
        Self.expectMalformed(Self.opMsg([]), "no sections")
        Self.expectMalformed(S.message(.msg, body: [0, 0]), "flagBits cut")
        Self.expectMalformed(Self.opMsg([1] + S.le32(Int32(4 + 10 + docs.count)) + S.cString("documents") + docs), "kind 1 only, no body")
        Self.expectMalformed(Self.opMsg([0] + Self.body + [0] + Self.body), "two bodies")
        Self.expectMalformed(Self.opMsg([0] + Self.body + [2] + S.le32(5)), "unknown kind 2")
        Self.expectMalformed(Self.opMsg([0] + Self.body + [1] + S.le32(4)), "sequence size below 5")
        Self.expectMalformed(Self.opMsg([0] + Self.body + [1] + S.le32(9) + Array("docs".utf8)), "identifier without NUL")
        Self.expectMalformed(Self.opMsg([0] + Self.body + [1] + S.le32(4 + 2 + 3) + S.cString("d") + [5, 0, 0]), "document cut inside a sequence")
        Self.expectMalformed(Self.opMsg([0] + S.le32(200) + [0]), "body length past the message")
        Self.expectMalformed(Self.opMsg(flags: 1 << 2, [0] + Self.body), "unknown required flag bit 2")
        Self.expectMalformed(Self.opMsg(flags: 1, [0, 0, 0]), "checksumPresent with no room")
    }

    @Test("a kind-1 section that exactly fills its size decodes; the high flag bits are optional")
    func validSequences() throws {
        let docs = S.document([0x10, 0x61, 0, 1, 0, 0, 0]) + S.document([])
        let sequence = [1] + S.le32(Int32(4 + 10 + docs.count)) + S.cString("documents") + docs
        let message = Self.opMsg(flags: 1 << 16 | 1 << 20, [0] + Self.body + sequence + sequence)
        let msg = try MongoOpMsg(decoding: message)
        #expect(msg.flags.contains(.exhaustAllowed))
        #expect(msg.documentSequences.map(\.identifier) == ["documents", "documents"])
        #expect(msg.documentSequences[0].documents.count == 2)
        #expect(Synthetic.bytes(msg.message(requestID: 7, responseTo: 0)) == Synthetic.bytes(message))
        #expect(try MongoCommandReader.summary(of: message, limits: Self.limits) == MongoCommandSummary(commandName: "ping", database: "admin"))
    }

    @Test("moreToCome is reported; a request without $db has no database; a non-string $db throws")
    func summaries() throws {
        let summary = try MongoCommandReader.summary(of: S.command("insert", database: "appdb", flags: 2), limits: Self.limits)
        #expect(summary == MongoCommandSummary(commandName: "insert", database: "appdb", moreToCome: true))
        let noDB = Self.opMsg([0] + S.document { $0.append("ping", int32: 1) }.bytes.bytes)
        #expect(try MongoCommandReader.summary(of: noDB, limits: Self.limits) == MongoCommandSummary(commandName: "ping"))
        let empty = Self.opMsg([0] + S.document([]))
        #expect(try MongoCommandReader.summary(of: empty, limits: Self.limits) == MongoCommandSummary())
        Self.expectMalformed(Self.opMsg([0] + S.document { $0.append("ping", int32: 1); $0.append("$db", int32: 3) }.bytes.bytes), "$db int32")
    }

    @Test("a checksum mismatch names both values; a correct one passes")
    func checksumMismatch() throws {
        let plain = Self.opMsg([0] + Self.body)
        let built = MongoOpMsg(flags: .checksumPresent, body: try BSONDocument(validating: ByteBuffer(bytes: Self.body)))
            .message(requestID: 7, responseTo: 0)
        #expect(built.header.messageLength == plain.header.messageLength + 4)
        #expect(try MongoCommandReader.summary(of: built, limits: Self.limits) == MongoCommandSummary(commandName: "ping", database: "admin"))
        var bytes = Synthetic.bytes(built)
        let crc = CRC32C.checksum(bytes.dropLast(4))
        #expect(Array(bytes.suffix(4)) == withUnsafeBytes(of: crc.littleEndian) { Array($0) })
        bytes[bytes.count - 1] ^= 0xFF
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = MongoMessageDecoder()
        let tampered = try #require(try decoder.decode(buffer: &buffer))
        #expect(throws: MongoWireError.checksumMismatch(expected: crc ^ 0xFF00_0000, actual: crc)) {
            try MongoCommandReader.summary(of: tampered, limits: Self.limits)
        }
    }

    @Test("a message whose header length disagrees with its body throws")
    func lengthDisagreement() {
        var message = S.command("ping", database: "admin")
        message.header.messageLength += 1
        Self.expectMalformed(message, "length one more than the bytes")
    }
}
