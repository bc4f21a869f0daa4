import Foundation
import NIOCore
import Testing
import WireMongo

@Suite("Error replies")
struct ErrorReplyTests {
    static let reply = MongoErrorReply.unauthorized("database user 'bob' not allowed by certificate (allowed: alice)")

    /// Decodes the one message in `bytes` with the codec itself.
    static func decode(_ bytes: ByteBuffer) throws -> MongoMessage {
        var buffer = bytes
        let messages = try Framing.messages(&buffer)
        try #require(messages.count == 1)
        return messages[0]
    }

    static func expectDocument(_ document: BSONDocument) throws {
        let elements = try document.elements()
        #expect(elements.map(\.key) == ["ok", "errmsg", "code", "codeName"])
        #expect(elements[0].type == .double)
        #expect(elements[0].doubleValue == 0.0)
        #expect(elements[1].stringValue == reply.message)
        #expect(elements[2].int32Value == 13)
        #expect(elements[3].stringValue == "Unauthorized")
    }

    @Test("answering an OP_MSG: OP_MSG flagBits 0, one kind-0 body, responseTo = the request's id")
    func opMsg() throws {
        let request = try Golden.messages("find.client.bin")[0].header
        let bytes = Self.reply.encoded(replyingTo: request, requestID: 42)
        let message = try Self.decode(bytes)
        #expect(message.header.opCode == .msg)
        #expect(message.header.requestID == 42)
        #expect(message.header.responseTo == 1_957_747_793)
        #expect(Int(message.header.messageLength) == bytes.readableBytes)
        #expect(message.body.getInteger(at: 0, endianness: .little, as: UInt32.self) == 0)
        let msg = try MongoOpMsg(decoding: message)
        #expect(msg.flags == [])
        #expect(msg.documentSequences.isEmpty)
        try Self.expectDocument(msg.body)
    }

    @Test("answering an OP_QUERY (the legacy handshake): OP_REPLY with one document")
    func opReply() throws {
        let request = try Golden.messages("handshake-query.client.bin")[0].header
        let message = try Self.decode(Self.reply.encoded(replyingTo: request, requestID: 3))
        #expect(message.header.opCode == .reply)
        #expect(message.header.responseTo == 846_930_886)
        let reply = try MongoOpReply(decoding: message)
        #expect(reply.responseFlags == 0)
        #expect(reply.cursorID == 0)
        #expect(reply.startingFrom == 0)
        #expect(reply.documents.count == 1)
        try Self.expectDocument(reply.documents[0])
    }

    @Test("answering OP_COMPRESSED gets an uncompressed OP_MSG")
    func compressedRequest() throws {
        let request = try Golden.messages("zlib-find.client.bin")[0].header
        let message = try Self.decode(Self.reply.encoded(replyingTo: request, requestID: 1))
        #expect(message.header.opCode == .msg)
        #expect(message.header.responseTo == -1_830_947_475)
    }

    static let python = """
        import bson, json, struct, sys
        data = bytes.fromhex(sys.argv[1])
        length, request_id, response_to, opcode = struct.unpack_from("<iiii", data)
        assert length == len(data)
        if opcode == 2013:
            flags, kind = struct.unpack_from("<IB", data, 16)
            assert (flags, kind) == (0, 0)
            doc = bson.decode(data[21:])
        else:
            assert opcode == 1
            assert struct.unpack_from("<iqii", data, 16) == (0, 0, 0, 1)
            doc = bson.decode(data[36:])
        print(json.dumps([opcode, response_to, [[k, type(v).__name__, v] for k, v in doc.items()]]))
        """

    static let pythonBSONAvailable: Bool = run(["-c", "import bson"]) != nil

    /// Runs python3 with `arguments`; its stdout, or nil when it could not run or failed.
    static func run(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("pymongo's bson decodes both reply forms",
          .enabled(if: pythonBSONAvailable, "skipped: python3 with pymongo's bson module is not installed (pip install pymongo)"))
    func pymongoDecodes() throws {
        let message = #"[["ok", "float", 0.0], ["errmsg", "str", "database user 'bob' not allowed by certificate (allowed: alice)"], ["code", "int", 13], ["codeName", "str", "Unauthorized"]]"#
        for (opCode, request) in [(2013, "find.client.bin"), (1, "handshake-query.client.bin")] {
            let header = try Golden.messages(request)[0].header
            let hex = Self.reply.encoded(replyingTo: header, requestID: 9).readableBytesView
                .map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            let output = try #require(Self.run(["-c", Self.python, hex]), "python3 failed to decode the \(opCode) reply")
            #expect(output == "[\(opCode), \(header.requestID), \(message)]")
        }
    }
}
