import Foundation
import Testing

@testable import ServerALPN

/// Audit records as JSON lines: exact text, keys in a fixed order.
@Suite("Audit record encoding")
struct AuditRecordTests {
    /// 2026-11-26T15:40:07.123Z
    static let time = Date(timeIntervalSince1970: 1_795_707_607.123_4)

    static let session = AuditSession(
        connection: 42, clientAddress: "203.0.113.7:51234", user: "alice", roles: ["dev", "ops"], certificateSerial: "0a1b",
        service: "pg1", databaseProtocol: "postgres", databaseUser: "alice", databaseName: "appdb")

    @Test("session.start")
    func sessionStart() {
        #expect(AuditRecord.sessionStart(time: Self.time, session: Self.session).jsonLine == """
            {"type":"session.start","time":"2026-11-26T15:40:07.123Z","connection":42,"client_address":"203.0.113.7:51234",\
            "user":"alice","roles":["dev","ops"],"certificate_serial":"0a1b","service":"pg1","protocol":"postgres",\
            "database_user":"alice","database_name":"appdb"}
            """)
    }

    @Test("session.end with each reason; missing values are null")
    func sessionEnd() {
        var session = Self.session
        session.clientAddress = nil
        session.databaseName = nil
        session.roles = []
        let common = """
            {"type":"session.end","time":"2026-11-26T15:40:07.123Z","connection":42,"client_address":null,\
            "user":"alice","roles":[],"certificate_serial":"0a1b","service":"pg1","protocol":"postgres",\
            "database_user":"alice","database_name":null,"bytes_from_client":120,"bytes_to_client":4096,"duration_ms":1500,
            """
        func line(_ reason: AuditEndReason) -> String {
            AuditRecord.sessionEnd(time: Self.time, session: session, bytesFromClient: 120, bytesToClient: 4096, duration: 1.4996, reason: reason).jsonLine
        }
        #expect(line(.clientClosed) == common + #""reason":"client closed"}"#)
        #expect(line(.databaseClosed) == common + #""reason":"database closed"}"#)
        #expect(line(.error("connection reset by peer")) == common + #""reason":"error","error":"connection reset by peer"}"#)
    }

    @Test("statement records: SQL text with escapes, a Mongo command")
    func statements() {
        let sql = AuditRecord.statement(
            time: Self.time, connection: 7, databaseProtocol: "postgres",
            statement: .sql(kind: "query", text: "select '\"a\\b'\n\t\u{01}é", truncated: true))
        #expect(sql.jsonLine == #"""
            {"type":"statement","time":"2026-11-26T15:40:07.123Z","connection":7,"protocol":"postgres","kind":"query","text":"select '\"a\\b'\n\t\u0001é","truncated":true}
            """#)
        let command = AuditRecord.statement(
            time: Self.time, connection: 8, databaseProtocol: "mongodb", statement: .command(name: "find", database: "appdb", truncated: false))
        #expect(command.jsonLine == """
            {"type":"statement","time":"2026-11-26T15:40:07.123Z","connection":8,"protocol":"mongodb","kind":"command","command":"find","database":"appdb","truncated":false}
            """)
    }

    @Test("times: UTC, milliseconds rounded down, across dates and leap days", arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (951_782_400.999_9, "2000-02-29T00:00:00.999Z"),
        (-1.5, "1969-12-31T23:59:58.500Z"),
        (4_102_444_799.0, "2099-12-31T23:59:59.000Z"),
    ])
    func times(seconds: Double, text: String) {
        #expect(AuditTime.iso8601(Date(timeIntervalSince1970: seconds)) == text)
    }

    @Test("every line is valid JSON that Foundation reads back")
    func parsesBack() throws {
        let line = AuditRecord.statement(
            time: Self.time, connection: 1, databaseProtocol: "mysql", statement: .sql(kind: "com_query", text: "\u{2028}\"\\", truncated: false)).jsonLine
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(object?["text"] as? String == "\u{2028}\"\\")
    }
}
