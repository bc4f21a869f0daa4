import Foundation
import NIOCore
import Testing

@testable import ServerALPN

/// The statement taps (WirePostgres, WireMySQL, WireMongo) through the audit's wrapper, fed
/// captured client streams from Tests/Fixtures/wire whole, split at every offset and byte by
/// byte; no sockets.
@Suite("Audit statement taps")
struct AuditTapTests {
    private static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/wire", isDirectory: true)

    private static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    /// The PostgreSQL stream after the startup packet (which the router reads itself).
    private static func afterStartup(_ bytes: [UInt8]) -> [UInt8] {
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        return Array(bytes[length...])
    }

    private static func tap(_ name: String, maximum: Int = 64 * 1024) -> AuditStatementTap? {
        switch name {
        case "postgres": AuditStatementTap(databaseProtocol: .postgres, maximumBytes: maximum)
        case "mysql": AuditStatementTap(databaseProtocol: .mysql, maximumBytes: maximum)
        default: AuditStatementTap(databaseProtocol: .mongodb, maximumBytes: maximum)
        }
    }

    private static func feed(_ tap: AuditStatementTap?, _ chunks: [ArraySlice<UInt8>]) -> [AuditStatement] {
        guard var tap else { return [] }
        return chunks.flatMap { tap.feed(ByteBuffer(bytes: $0)) }
    }

    /// Checks that `bytes` gives `expected` whole, split in two at every offset, in three
    /// pieces around every offset, and byte by byte.
    private static func expectEverySplit(_ protocolName: String, _ bytes: [UInt8], _ expected: [AuditStatement], maximum: Int = 64 * 1024) {
        let tap = Self.tap(protocolName, maximum: maximum)
        #expect(feed(tap, [bytes[...]]) == expected)
        for offset in 0...bytes.count {
            #expect(feed(tap, [bytes[..<offset], bytes[offset...]]) == expected, "split at \(offset)")
            let end = min(bytes.count, offset + 3)
            #expect(feed(tap, [bytes[..<offset], bytes[offset..<end], bytes[end...]]) == expected, "three pieces at \(offset)")
        }
        #expect(feed(tap, bytes.indices.map { bytes[$0...$0] }) == expected, "byte by byte")
    }

    // MARK: PostgreSQL

    @Test("psql captures: the Query after trust, SCRAM and md5 logins; password messages skipped",
          arguments: ["trustuser.client.bin", "alice-scram.client.bin", "md5user.client.bin"])
    func postgresCaptures(name: String) throws {
        let stream = Self.afterStartup(try Self.fixture("postgres/" + name))
        Self.expectEverySplit("postgres", stream, [.sql(kind: "query", text: "select 1", truncated: false)])
    }

    /// A typed message: type byte, big-endian length including itself, body.
    private static func message(_ type: Character, _ body: [UInt8]) -> [UInt8] {
        let length = UInt32(body.count + 4)
        return [UInt8(ascii: type.unicodeScalars.first ?? "?")] + withUnsafeBytes(of: length.bigEndian, Array.init) + body
    }

    private static func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    @Test("extended protocol: Parse text (named and unnamed) around Bind/Execute/Sync; an empty Query")
    func postgresExtended() {
        let stream = Self.message("P", Self.cString("s1") + Self.cString("select $1::int") + [0, 1, 0, 0, 0, 23])
            + Self.message("B", [0, 0x73, 0x31, 0, 0, 0, 0, 0, 0, 0])
            + Self.message("E", [0, 0, 0, 0, 0]) + Self.message("S", [])
            + Self.message("P", Self.cString("") + Self.cString("select 2") + [0, 0])
            + Self.message("Q", Self.cString(""))
        Self.expectEverySplit("postgres", stream, [
            .sql(kind: "parse", text: "select $1::int", truncated: false),
            .sql(kind: "parse", text: "select 2", truncated: false),
            .sql(kind: "query", text: "", truncated: false),
        ])
    }

    @Test("a statement longer than the limit is cut and marked; the next one is read whole")
    func postgresTruncation() {
        let long = String(repeating: "x", count: 100)
        let stream = Self.message("Q", Self.cString("select '\(long)'")) + Self.message("Q", Self.cString("select 1"))
        Self.expectEverySplit("postgres", stream, [
            .sql(kind: "query", text: "select 'xx", truncated: true),
            .sql(kind: "query", text: "select 1", truncated: false),
        ], maximum: 10)
    }

    @Test("a length below 4 stops the tap: nothing after it is reported, and it never throws")
    func postgresMalformed() {
        var tap = AuditStatementTap(databaseProtocol: .postgres, maximumBytes: 1024)
        let good = Self.message("Q", Self.cString("select 1"))
        #expect(tap?.feed(ByteBuffer(bytes: good + [UInt8(ascii: "Q"), 0, 0, 0, 2])) == [.sql(kind: "query", text: "select 1", truncated: false)])
        #expect(tap?.isStopped == true)
        #expect(tap?.feed(ByteBuffer(bytes: good)) == [])
    }

    // MARK: MySQL

    @Test("mariadb capture: the HandshakeResponse (sequence 1) is skipped, COM_QUERY read, COM_QUIT ignored")
    func mysqlCapture() throws {
        Self.expectEverySplit("mysql", try Self.fixture("mysql/alice.client.bin"), [.sql(kind: "com_query", text: "select 1", truncated: false)])
    }

    private static func packet(_ sequence: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        return [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), sequence] + payload
    }

    @Test("COM_STMT_PREPARE, COM_QUERY, other commands and non-zero sequence ids; truncation")
    func mysqlCommands() {
        let stream = Self.packet(0, [0x16] + Array("select ? + 1".utf8))
            + Self.packet(0, [0x17, 1, 0, 0, 0])  // COM_STMT_EXECUTE
            + Self.packet(0, [0x03] + Array("load data local infile 'x' into table t".utf8))
            + Self.packet(2, [0x03] + Array("file contents".utf8))  // LOAD DATA contents, not a command
            + Self.packet(0, [0x0E])  // COM_PING
            + Self.packet(0, [0x03])  // empty query
        Self.expectEverySplit("mysql", stream, [
            .sql(kind: "com_stmt_prepare", text: "select ? + 1", truncated: false),
            .sql(kind: "com_query", text: "load data lo", truncated: true),
            .sql(kind: "com_query", text: "", truncated: false),
        ], maximum: 12)
    }

    @Test("a 16 MiB COM_QUERY continues over frames: one statement, cut at the limit; the next packet is a command again")
    func mysqlContinuation() {
        let first = [0x03] + [UInt8](repeating: UInt8(ascii: "a"), count: 0xFF_FFFF - 1)
        var stream = [UInt8(0xFF), 0xFF, 0xFF, 0] + first
        stream += Self.packet(1, Array("bc".utf8))
        stream += Self.packet(0, [0x03] + Array("select 2".utf8))
        let expected: [AuditStatement] = [
            .sql(kind: "com_query", text: String(repeating: "a", count: 16), truncated: true),
            .sql(kind: "com_query", text: "select 2", truncated: false),
        ]
        let tap = Self.tap("mysql", maximum: 16)
        for offset in [0, 1, 3, 4, 5, 17, 0xFF_FFFF, 0xFF_FFFF + 3, 0xFF_FFFF + 4, 0xFF_FFFF + 5, stream.count - 9, stream.count] {
            #expect(Self.feed(tap, [stream[..<offset], stream[offset...]]) == expected, "split at \(offset)")
        }
    }

    // MARK: MongoDB

    @Test("pymongo captures: command names and $db of OP_MSG, legacy OP_QUERY and zlib OP_COMPRESSED")
    func mongoCaptures() throws {
        Self.expectEverySplit("mongodb", try Self.fixture("mongo/plain.client.bin"), [
            .command(name: "ismaster", database: "admin", truncated: false),
            .command(name: "delete", database: "appdb", truncated: false),
            .command(name: "insert", database: "appdb", truncated: false),
            .command(name: "find", database: "appdb", truncated: false),
            .command(name: "endSessions", database: "admin", truncated: false),
        ])
        Self.expectEverySplit("mongodb", try Self.fixture("mongo/zlib-find.client.bin"), [.command(name: "find", database: "appdb", truncated: false)])
        let legacy = Self.feed(Self.tap("mongodb"), [try Self.fixture("mongo/handshake-query.client.bin")[...]])
        #expect(legacy.count == 1)
        if case .command(let name, let database, _) = legacy.first {
            #expect(name.lowercased() == "ismaster")
            #expect(database == "admin")
        }
    }

    @Test("a message larger than the limit: only its first key, marked truncated")
    func mongoTruncated() throws {
        let find = try Self.fixture("mongo/find.client.bin")
        Self.expectEverySplit("mongodb", find + find, [
            .command(name: "find", database: nil, truncated: true), .command(name: "find", database: nil, truncated: true),
        ], maximum: 40)
    }

    @Test("a header length below 16 stops the tap")
    func mongoMalformed() throws {
        var tap = AuditStatementTap(databaseProtocol: .mongodb, maximumBytes: 1024)
        let find = try Self.fixture("mongo/find.client.bin")
        #expect(tap?.feed(ByteBuffer(bytes: find + [4, 0, 0, 0] + [UInt8](repeating: 0, count: 12))) == [.command(name: "find", database: "appdb", truncated: false)])
        #expect(tap?.isStopped == true)
        #expect(tap?.feed(ByteBuffer(bytes: find)) == [])
    }
}
