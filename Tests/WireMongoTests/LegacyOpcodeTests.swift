import NIOCore
import Testing
import WireMongo

@Suite("OP_QUERY and legacy CRUD opcodes")
struct LegacyOpcodeTests {
    typealias S = Synthetic
    static let limits = MongoMessageLimits()

    static func query(_ collection: String, _ query: [UInt8], selector: [UInt8] = []) -> MongoMessage {
        S.message(.query, body: S.le32(4) + S.cString(collection) + S.le32(0) + S.le32(-1) + query + selector)
    }

    @Test("OP_QUERY unwraps $query and query; a find on a collection has no command name")
    func opQuery() throws {
        let hello = S.document { $0.append("hello", int32: 1) }.bytes.bytes
        let wrapped = S.document(
            [0x03] + S.cString("$query") + hello + [0x02] + S.cString("$readPreference") + S.le32(8) + S.cString("primary"))
        #expect(try MongoCommandReader.summary(of: Self.query("admin.$cmd", wrapped), limits: Self.limits)
            == MongoCommandSummary(commandName: "hello", database: "admin"))
        let legacyWrapped = S.document([0x03] + S.cString("query") + hello)
        #expect(try MongoCommandReader.summary(of: Self.query("test.$cmd", legacyWrapped), limits: Self.limits)
            == MongoCommandSummary(commandName: "hello", database: "test"))
        let filter = S.document { $0.append("isMaster", int32: 1) }.bytes.bytes
        let find = Self.query("appdb.users.archive", filter, selector: S.document([]))
        #expect(try MongoCommandReader.summary(of: find, limits: Self.limits) == MongoCommandSummary(database: "appdb"))
        #expect(try MongoOpQuery(decoding: find).returnFieldsSelector != nil)
        #expect(try MongoCommandReader.summary(of: Self.query("nodot", hello), limits: Self.limits) == MongoCommandSummary(database: "nodot"))
    }

    @Test("OP_QUERY truncations and trailing bytes throw")
    func opQueryMalformed() {
        let hello = S.document { $0.append("hello", int32: 1) }.bytes.bytes
        let good = Synthetic.bytes(Self.query("admin.$cmd", hello)).dropFirst(16)
        for length in 0..<good.count {
            #expect(throws: MongoWireError.self) {
                try MongoCommandReader.summary(of: S.message(.query, body: Array(good.prefix(length))), limits: Self.limits)
            }
        }
        #expect(throws: MongoWireError.self) {
            try MongoCommandReader.summary(of: S.message(.query, body: Array(good) + hello + [9]), limits: Self.limits)
        }
    }

    @Test("legacy CRUD opcodes give the database of their collection and no command", arguments: [
        MongoOpCode.insert, .update, .delete, .getMore,
    ])
    func crud(opCode: MongoOpCode) throws {
        let message = S.message(opCode, body: S.le32(0) + S.cString("appdb.items") + S.le32(0) + S.document([]))
        #expect(try MongoCommandReader.summary(of: message, limits: Self.limits) == MongoCommandSummary(database: "appdb"))
        #expect(throws: MongoWireError.self) {
            try MongoCommandReader.summary(of: S.message(opCode, body: S.le32(0) + Array("appdb".utf8)), limits: Self.limits)
        }
    }

    @Test("OP_KILL_CURSORS names no collection; its count must match its ids")
    func killCursors() throws {
        let good = S.message(.killCursors, body: S.le32(0) + S.le32(2) + S.le64(1) + S.le64(2))
        #expect(try MongoCommandReader.summary(of: good, limits: Self.limits) == MongoCommandSummary())
        let bad = S.message(.killCursors, body: S.le32(0) + S.le32(3) + S.le64(1))
        #expect(throws: MongoWireError.self) { try MongoCommandReader.summary(of: bad, limits: Self.limits) }
    }

    @Test("OP_REPLY: numberReturned must match the documents")
    func opReply() throws {
        let document = S.document { $0.append("maxMessageSizeBytes", double: 1000.0) }
        let reply = MongoOpReply(documents: [document]).message(requestID: 1, responseTo: 2)
        #expect(try MongoCommandReader.maxMessageSize(inReply: reply, limits: Self.limits) == 1000)
        var body = reply.body
        body.setInteger(Int32(2), at: 16, endianness: .little)
        #expect(throws: MongoWireError.self) {
            try MongoOpReply(decoding: MongoMessage(header: reply.header, body: body))
        }
        body.setInteger(Int32(-1), at: 16, endianness: .little)
        #expect(throws: MongoWireError.self) {
            try MongoOpReply(decoding: MongoMessage(header: reply.header, body: body))
        }
        body.setInteger(Int32(0), at: 16, endianness: .little)
        #expect(throws: MongoWireError.self) {
            try MongoOpReply(decoding: MongoMessage(header: reply.header, body: body))
        }
    }

    @Test("maxMessageSizeBytes as int32, int64 and double; a fractional or string value throws")
    func maxMessageSizeTypes() throws {
        func reply(_ build: (inout BSONWriter) -> Void) -> MongoMessage {
            MongoOpMsg(body: S.document(build)).message(requestID: 1, responseTo: 0)
        }
        #expect(try MongoCommandReader.maxMessageSize(inReply: reply { $0.append("maxMessageSizeBytes", int32: 48_000_000) }, limits: Self.limits) == 48_000_000)
        #expect(try MongoCommandReader.maxMessageSize(inReply: reply { $0.append("maxMessageSizeBytes", double: 96e6) }, limits: Self.limits) == 96_000_000)
        let int64 = MongoOpMsg(body: try BSONDocument(validating: ByteBuffer(bytes: S.document(
            [0x12] + S.cString("maxMessageSizeBytes") + S.le64(50_000_000)))))
        #expect(try MongoCommandReader.maxMessageSize(inReply: int64.message(requestID: 1, responseTo: 0), limits: Self.limits) == 50_000_000)
        #expect(throws: MongoWireError.self) {
            try MongoCommandReader.maxMessageSize(inReply: reply { $0.append("maxMessageSizeBytes", double: 1.5) }, limits: Self.limits)
        }
        #expect(throws: MongoWireError.self) {
            try MongoCommandReader.maxMessageSize(inReply: reply { $0.append("maxMessageSizeBytes", string: "big") }, limits: Self.limits)
        }
        #expect(try MongoCommandReader.maxMessageSize(inReply: reply { $0.append("ok", double: 1) }, limits: Self.limits) == nil)
    }
}
