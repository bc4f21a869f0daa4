import Foundation
import Testing

@testable import ServerALPN

/// The bounded queue and the writer, without a router.
@Suite("Audit log queue and writer")
struct AuditLogTests {
    private static func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).jsonl").path
    }

    private static func statement(_ number: Int) -> AuditRecord {
        .statement(time: Date(timeIntervalSince1970: 0), connection: UInt64(number), databaseProtocol: "postgres", statement: .sql(kind: "query", text: "select \(number)", truncated: false))
    }

    @Test("a full queue drops and counts records; the queued ones are written in order")
    func overflow() async throws {
        let path = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = AuditLog(configuration: AuditConfiguration(destination: .file(path), queueCapacity: 3))
        for number in 1...5 { log.record(Self.statement(number)) }  // the writer has not started: 3 fit
        #expect(log.droppedRecords == 2)
        try log.start()
        await log.shutdown()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == (1...3).map { Self.statement($0).jsonLine })
        log.record(Self.statement(6))  // after shutdown: dropped, counted
        #expect(log.droppedRecords == 3)
    }

    @Test("records are appended to an existing file")
    func appends() async throws {
        let path = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("earlier\n".utf8).write(to: URL(fileURLWithPath: path))
        let log = AuditLog(configuration: AuditConfiguration(destination: .file(path)))
        try log.start()
        log.record(Self.statement(1))
        await log.shutdown()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "earlier\n" + Self.statement(1).jsonLine + "\n")
        #expect(log.droppedRecords == 0)
    }

    @Test("a file that cannot be opened fails start")
    func unwritable() {
        let log = AuditLog(configuration: AuditConfiguration(destination: .file("/nonexistent-dir/audit.jsonl")))
        #expect(throws: AuditLogError.self) { try log.start() }
    }
}
