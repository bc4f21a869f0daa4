import NIOCore
import Testing
import WireMongo

/// What pymongo 4.20.1 / 4.10.1 and the wire test server exchanged (Tests/Fixtures/wire/mongo).
@Suite("Golden messages from pymongo")
struct GoldenMessageTests {
    static let limits = MongoMessageLimits()

    static func one(_ name: String) throws -> MongoMessage {
        let messages = try Golden.messages(name)
        try #require(messages.count == 1)
        return messages[0]
    }

    @Test("pymongo 4.20 handshakes with an OP_MSG `ismaster` (helloOk) to admin")
    func opMsgHandshake() throws {
        let message = try Self.one("handshake-msg.client.bin")
        #expect(message.header == MongoMessageHeader(messageLength: 394, requestID: 846_930_886, responseTo: 0, opCode: .msg))
        let msg = try MongoOpMsg(decoding: message)
        #expect(msg.flags == [])
        #expect(msg.documentSequences.isEmpty)
        #expect(try msg.body.elements().map(\.key) == ["ismaster", "helloOk", "backpressure", "client", "compression", "$db"])
        #expect(try msg.body.element(named: "helloOk")?.boolValue == true)
        let client = try #require(try msg.body.element(named: "client")?.documentValue)
        let driver = try #require(try client.element(named: "driver")?.documentValue)
        #expect(try driver.element(named: "name")?.stringValue == "PyMongo|c")
        #expect(try driver.element(named: "version")?.stringValue == "4.20.1|")
        #expect(try msg.body.element(named: "compression")?.type == .array)
        #expect(try MongoCommandReader.summary(of: message, limits: Self.limits)
            == MongoCommandSummary(commandName: "ismaster", database: "admin", moreToCome: false))
        #expect(try MongoCommandReader.maxMessageSize(inReply: message, limits: Self.limits) == nil)
    }

    @Test("the OP_MSG hello reply carries maxMessageSizeBytes 48000000")
    func opMsgHandshakeReply() throws {
        let message = try Self.one("handshake-msg.server.bin")
        #expect(message.header == MongoMessageHeader(messageLength: 270, requestID: 2, responseTo: 846_930_886, opCode: .msg))
        let body = try MongoOpMsg(decoding: message).body
        #expect(try body.firstElement()?.key == "helloOk")
        #expect(try body.element(named: "maxWireVersion")?.int32Value == 17)
        #expect(try body.element(named: "localTime")?.type == .dateTime)
        #expect(try body.element(named: "ok")?.doubleValue == 1.0)
        #expect(try MongoCommandReader.maxMessageSize(inReply: message, limits: Self.limits) == 48_000_000)
    }

    @Test("pymongo 4.10 handshakes with an OP_QUERY `ismaster` on admin.$cmd")
    func opQueryHandshake() throws {
        let message = try Self.one("handshake-query.client.bin")
        #expect(message.header == MongoMessageHeader(messageLength: 376, requestID: 846_930_886, responseTo: 0, opCode: .query))
        let query = try MongoOpQuery(decoding: message)
        #expect(query.flags == 0)
        #expect(query.fullCollectionName == "admin.$cmd")
        #expect(query.database == "admin")
        #expect(query.isCommand)
        #expect(query.numberToSkip == 0)
        #expect(query.numberToReturn == -1)
        #expect(query.returnFieldsSelector == nil)
        #expect(try query.query.elements().map(\.key) == ["ismaster", "helloOk", "client", "compression"])
        #expect(try MongoCommandReader.summary(of: message, limits: Self.limits)
            == MongoCommandSummary(commandName: "ismaster", database: "admin", moreToCome: false))
    }

    @Test("the OP_REPLY to it has one document with maxMessageSizeBytes")
    func opReplyHandshake() throws {
        let message = try Self.one("handshake-query.server.bin")
        #expect(message.header == MongoMessageHeader(messageLength: 285, requestID: 2, responseTo: 846_930_886, opCode: .reply))
        let reply = try MongoOpReply(decoding: message)
        #expect(reply.responseFlags == 0)
        #expect(reply.cursorID == 0)
        #expect(reply.startingFrom == 0)
        #expect(reply.documents.count == 1)
        #expect(try reply.documents[0].firstElement()?.key == "helloOk")
        #expect(try MongoCommandReader.maxMessageSize(inReply: message, limits: Self.limits) == 48_000_000)
        #expect(Synthetic.bytes(reply.message(requestID: 2, responseTo: 846_930_886)) == (try Golden.bytes("handshake-query.server.bin")))
    }

    @Test("an OP_MSG find with $db, and its cursor reply")
    func find() throws {
        let message = try Self.one("find.client.bin")
        #expect(message.header == MongoMessageHeader(messageLength: 125, requestID: 1_957_747_793, responseTo: 0, opCode: .msg))
        let msg = try MongoOpMsg(decoding: message)
        #expect(try msg.body.elements().map(\.key) == ["find", "filter", "lsid", "$db"])
        #expect(try msg.body.firstElement()?.stringValue == "items")
        let lsid = try #require(try msg.body.element(named: "lsid")?.documentValue)
        let id = try #require(try lsid.element(named: "id"))
        #expect(id.type == .binary)
        #expect(id.value.readableBytes == 4 + 1 + 16)
        #expect(id.value.getInteger(at: id.value.readerIndex + 4, as: UInt8.self) == 4)  // UUID subtype
        #expect(try MongoCommandReader.summary(of: message, limits: Self.limits)
            == MongoCommandSummary(commandName: "find", database: "appdb", moreToCome: false))
        #expect(Synthetic.bytes(msg.message(requestID: 1_957_747_793, responseTo: 0)) == (try Golden.bytes("find.client.bin")))

        let reply = try Self.one("find.server.bin")
        #expect(reply.header == MongoMessageHeader(messageLength: 143, requestID: 5, responseTo: 1_957_747_793, opCode: .msg))
        let cursor = try #require(try MongoOpMsg(decoding: reply).body.element(named: "cursor")?.documentValue)
        #expect(try cursor.elements().map(\.key) == ["firstBatch", "id", "ns"])
        #expect(try cursor.element(named: "ns")?.stringValue == "appdb.items")
        #expect(try cursor.element(named: "id")?.int64Value == 0)
        let batch = try #require(try cursor.element(named: "firstBatch")?.documentValue)
        let first = try #require(try batch.firstElement()?.documentValue)
        #expect(try first.elements().map(\.key) == ["_id", "name", "qty"])
        #expect(try MongoCommandReader.maxMessageSize(inReply: reply, limits: Self.limits) == nil)
    }

    @Test("the checksummed find (built from the capture) verifies, re-encodes, and a flipped byte fails")
    func checksum() throws {
        let message = try Self.one("find-checksum.client.bin")
        #expect(message.header.messageLength == 129)
        let msg = try MongoOpMsg(decoding: message)
        #expect(msg.flags == .checksumPresent)
        #expect(msg.body == (try MongoOpMsg(decoding: try Self.one("find.client.bin"))).body)
        #expect(try MongoCommandReader.summary(of: message, limits: Self.limits)
            == MongoCommandSummary(commandName: "find", database: "appdb", moreToCome: false))
        #expect(Synthetic.bytes(msg.message(requestID: 1_957_747_793, responseTo: 0)) == (try Golden.bytes("find-checksum.client.bin")))

        let stored = message.body.getInteger(at: message.body.writerIndex - 4, endianness: .little, as: UInt32.self) ?? 0
        var corrupted = message
        corrupted.body.setInteger(UInt8(ascii: "F"), at: 10)
        #expect(throws: MongoWireError.self) { try MongoOpMsg(decoding: corrupted) }
        do {
            _ = try MongoOpMsg(decoding: corrupted)
        } catch {
            guard case .checksumMismatch(let expected, let actual) = error else {
                Issue.record("expected a checksum mismatch, got \(error)")
                return
            }
            #expect(expected == stored)
            #expect(actual != stored)
        }
        var wrongID = message
        wrongID.header.requestID += 1  // the header is covered too
        #expect(throws: MongoWireError.self) { try MongoCommandReader.summary(of: wrongID, limits: Self.limits) }
    }

    @Test("a zlib OP_COMPRESSED find decompresses to the OP_MSG it wraps")
    func zlibFind() throws {
        let message = try Self.one("zlib-find.client.bin")
        #expect(message.header == MongoMessageHeader(messageLength: 126, requestID: -1_830_947_475, responseTo: 0, opCode: .compressed))
        let compressed = try MongoOpCompressed(decoding: message)
        #expect(compressed.originalOpCode == .msg)
        #expect(compressed.uncompressedSize == 109)
        #expect(compressed.compressorID == MongoCompressor.zlib.rawValue)
        #expect(compressed.compressedMessage.readableBytes == 101)
        let inner = try compressed.decompressed(limits: Self.limits)
        #expect(inner.header == MongoMessageHeader(messageLength: 125, requestID: -1_830_947_475, responseTo: 0, opCode: .msg))
        #expect(try MongoOpMsg(decoding: inner).body.elements().map(\.key) == ["find", "filter", "lsid", "$db"])
        #expect(try MongoCommandReader.summary(of: message, limits: Self.limits)
            == MongoCommandSummary(commandName: "find", database: "appdb", moreToCome: false))

        let reply = try Self.one("zlib-find.server.bin")
        #expect(reply.header == MongoMessageHeader(messageLength: 134, requestID: 11, responseTo: -1_830_947_475, opCode: .compressed))
        let replyCompressed = try MongoOpCompressed(decoding: reply)
        #expect(replyCompressed.uncompressedSize == 127)
        let replyInner = try replyCompressed.decompressed(limits: Self.limits)
        #expect(try MongoOpMsg(decoding: replyInner).body.firstElement()?.key == "cursor")
        #expect(try MongoCommandReader.maxMessageSize(inReply: reply, limits: Self.limits) == nil)
    }

    static let sessionCommands: [MongoCommandSummary] = [
        MongoCommandSummary(commandName: "ismaster", database: "admin"),
        MongoCommandSummary(commandName: "delete", database: "appdb"),
        MongoCommandSummary(commandName: "insert", database: "appdb"),
        MongoCommandSummary(commandName: "find", database: "appdb"),
        MongoCommandSummary(commandName: "endSessions", database: "admin"),
    ]

    @Test("every request of each whole connection summarizes", arguments: ["plain", "zlib", "legacy"])
    func connections(capture: String) throws {
        let requests = try Golden.messages("\(capture).client.bin")
        #expect(try requests.map { try MongoCommandReader.summary(of: $0, limits: Self.limits) } == Self.sessionCommands)
        let replies = try Golden.messages("\(capture).server.bin")
        #expect(replies.map(\.header.responseTo) == requests.map(\.header.requestID))
        #expect(try MongoCommandReader.maxMessageSize(inReply: replies[0], limits: Self.limits) == 48_000_000)
        for reply in replies.dropFirst() {
            #expect(try MongoCommandReader.maxMessageSize(inReply: reply, limits: Self.limits) == nil)
        }
        let opCodes = requests.map(\.header.opCode)
        switch capture {
        case "plain": #expect(opCodes == [.msg, .msg, .msg, .msg, .msg])
        case "zlib": #expect(opCodes == [.msg, .compressed, .compressed, .compressed, .compressed])  // never the hello
        default: #expect(opCodes == [.query, .msg, .msg, .msg, .msg])
        }
    }

    @Test("pymongo's insert and delete carry kind-1 document sequences")
    func documentSequences() throws {
        let requests = try Golden.messages("plain.client.bin")
        let delete = try MongoOpMsg(decoding: requests[1])
        #expect(delete.documentSequences.map(\.identifier) == ["deletes"])
        #expect(delete.documentSequences[0].documents.count == 1)
        let insert = try MongoOpMsg(decoding: requests[2])
        #expect(insert.documentSequences.map(\.identifier) == ["documents"])
        let document = try #require(insert.documentSequences.first?.documents.first)
        #expect(try document.elements().map(\.key) == ["_id", "name", "qty"])
        #expect(try document.element(named: "name")?.stringValue == "widget")
        #expect(try document.element(named: "qty")?.int32Value == 5)
        #expect(Synthetic.bytes(insert.message(requestID: requests[2].header.requestID, responseTo: 0)) == Synthetic.bytes(requests[2]))
    }

    @Test("with compression negotiated the hello reply lists zlib")
    func negotiatedCompression() throws {
        let hello = try MongoOpMsg(decoding: try Golden.messages("zlib.server.bin")[0]).body
        let list = try #require(try hello.element(named: "compression")?.documentValue)
        #expect(try list.elements().map(\.stringValue) == ["zlib"])
    }
}
