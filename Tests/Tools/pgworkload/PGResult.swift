import CLibPQ
import WorkloadSupport

/// Owns a libpq `PGresult` and frees it with `PQclear`.
final class PGResult {
    let raw: OpaquePointer

    init(_ raw: OpaquePointer) {
        self.raw = raw
    }

    deinit {
        PQclear(raw)
    }

    var status: ExecStatusType { PQresultStatus(raw) }
    var rows: Int { Int(PQntuples(raw)) }
    var columns: Int { Int(PQnfields(raw)) }

    var statusName: String {
        guard let name = PQresStatus(status) else { return "unknown" }
        return String(cString: name)
    }

    var errorMessage: String {
        guard let message = PQresultErrorMessage(raw) else { return "" }
        return String(cString: message)
    }

    func isNull(_ row: Int, _ column: Int) -> Bool {
        PQgetisnull(raw, Int32(row), Int32(column)) != 0
    }

    /// The raw bytes of a field (text or binary format).
    func bytes(_ row: Int, _ column: Int) -> [UInt8] {
        let length = Int(PQgetlength(raw, Int32(row), Int32(column)))
        guard let value = PQgetvalue(raw, Int32(row), Int32(column)), length > 0 else { return [] }
        return value.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// A text-format field decoded as UTF-8.
    func text(_ row: Int, _ column: Int) -> String {
        String(decoding: bytes(row, column), as: UTF8.self)
    }

    /// Fails unless the result is one row with `columns` fields; used for single-row queries.
    func expectSingleRow(columns expected: Int, context: String) throws {
        guard rows == 1, columns == expected else {
            throw Failure("\(context): expected 1 row x \(expected) columns, got \(rows) x \(columns)")
        }
    }
}
