import Foundation
import Testing

/// Bad MongoDB messages as the first request, at the local proxy (which checks every header)
/// and at the router (TLS with `teleport-mongodb`, which reads every request): the answer is an
/// OP_MSG reply `{ok: 0, errmsg, code: 17, codeName: "ProtocolError"}` to that request, then the
/// close; a message cut short before EOF is closed without a reply. After each case pymongo runs
/// a command through the same proxy or router.
@Suite("Bad input: MongoDB", .serialized)
struct MongoBadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        var eof = false
        /// The errmsg after "dbproxy: " / "dbproxy router: "; nil: a close without reply.
        let errmsg: String?
        /// Only the router reads message bodies (the local proxy checks headers).
        var localProxyPasses = false

        var testDescription: String { name }
    }

    static let requestID: Int32 = 4711
    static let tooShort = "is shorter than the 16-byte header; the peer is not speaking the MongoDB wire protocol or the stream is out of step"
    static let tooLong = "is over the limit of 48000000 bytes; raise the maximum message size if the server allows larger messages (maxMessageSizeBytes)"
    static let unknown = "; only OP_MSG, OP_COMPRESSED, OP_QUERY, OP_REPLY and the legacy CRUD opcodes are understood"

    static func ping(length: Int32? = nil, opCode: Int32 = MongoBytes.opMsg, checksum: UInt32? = nil) -> [UInt8] {
        MongoBytes.message(requestID: requestID, opCode: opCode, body: MongoBytes.pingBody(checksum: checksum), length: length)
    }

    static let cases: [Case] = [
        Case(name: "message length 0", bytes: ping(length: 0), errmsg: "MongoDB protocol error: message length 0 \(tooShort)"),
        Case(name: "message length 15 (below the 16-byte header)", bytes: ping(length: 15),
             errmsg: "MongoDB protocol error: message length 15 \(tooShort)"),
        Case(name: "message length 48,000,001 (above the 48,000,000 maximum)", bytes: ping(length: 48_000_001),
             errmsg: "MongoDB protocol error: message length 48000001 \(tooLong)"),
        Case(name: "message length -1", bytes: ping(length: -1), errmsg: "MongoDB protocol error: message length -1 \(tooShort)"),
        Case(name: "message length 2^31-1", bytes: ping(length: .max), errmsg: "MongoDB protocol error: message length 2147483647 \(tooLong)"),
        Case(name: "unknown opcode 9999", bytes: ping(opCode: 9999), errmsg: "MongoDB protocol error: unknown opcode 9999\(unknown)"),
        Case(name: "removed opcode 2010 (OP_COMMAND)", bytes: ping(opCode: 2010), errmsg: "MongoDB protocol error: unknown opcode 2010\(unknown)"),
        Case(name: "OP_MSG checksum mismatch", bytes: ping(checksum: 0xDEAD_BEEF),
             errmsg: "MongoDB protocol error: OP_MSG checksum mismatch (message carries 0xDEADBEEF, bytes hash to 0x", localProxyPasses: true),
        Case(name: "header cut after 8 bytes, then EOF", bytes: Array(ping().prefix(8)), eof: true, errmsg: nil),
        Case(name: "message cut after 30 of its bytes, then EOF", bytes: Array(ping().prefix(30)), eof: true, errmsg: nil),
    ]

    private func exercise(_ raw: RawConnection, _ testCase: Case, prefix: String) async throws {
        await raw.send(testCase.bytes)
        if testCase.eof { await raw.finishOutput() }
        let answer = try await raw.readUntilClosed()
        guard let errmsg = testCase.errmsg else {
            #expect(answer.isEmpty, "answer \(answer.prefix(80))")
            return
        }
        let reply = try #require(MongoBytes.reply(answer), "no reply: \(answer.prefix(40))")
        #expect(reply.responseTo == Self.requestID)
        #expect(reply.opCode == MongoBytes.opMsg)
        #expect(reply.fields["ok"] == .double(0))
        #expect(reply.fields["code"] == .int32(17))
        #expect(reply.fields["codeName"] == .string("ProtocolError"))
        let message = reply.fields["errmsg"]?.description ?? ""
        #expect(message.hasPrefix(prefix + errmsg), "\(message)")
        if testCase.localProxyPasses { #expect(message.hasSuffix("); the message was corrupted in transit"), "\(message)") }
    }

    @Test("first request at the local proxy: a ProtocolError reply, then pymongo works", arguments: cases)
    func atLocalProxy(_ testCase: Case) async throws {
        let world = try await BadInputWorld.start(requiring: [.mongo])
        let (proxy, port) = try await world.localProxy(.mongo)
        // A body error is not the local proxy's to find: the router's reply comes through it.
        try await exercise(try await RawConnection.plain(port: port), testCase, prefix: testCase.localProxyPasses ? "dbproxy router: " : "dbproxy: ")
        try await world.expectServes(.mongo, port: port)
        await proxy.stop()
        await world.stop()
    }

    @Test("first request at the router (teleport-mongodb): a ProtocolError reply, then pymongo works", arguments: cases)
    func atRouter(_ testCase: Case) async throws {
        let world = try await BadInputWorld.start(requiring: [.mongo])
        let raw = try await world.routerTLS(.mongo)
        #expect(raw.negotiatedProtocol == "teleport-mongodb")
        try await exercise(raw, testCase, prefix: "dbproxy router: ")
        try await world.expectRouterServes(.mongo)
        await world.stop()
    }
}
