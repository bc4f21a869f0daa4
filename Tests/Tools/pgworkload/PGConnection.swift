import CLibPQ
import WorkloadSupport

/// A blocking libpq connection; every failure becomes a `Failure` carrying libpq's message.
final class PGConnection {
    let raw: OpaquePointer

    init(conninfo: String) throws {
        guard let connection = PQconnectdb(conninfo) else { throw Failure("PQconnectdb returned no connection object") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw Failure("connection failed: \(message)")
        }
        raw = connection
    }

    deinit {
        PQfinish(raw)
    }

    var errorMessage: String {
        String(cString: PQerrorMessage(raw))
    }

    /// Simple-protocol query (PQexec) that must finish with `expected`.
    @discardableResult
    func execute(_ sql: String, expecting expected: ExecStatusType = PGRES_COMMAND_OK) throws -> PGResult {
        try check(PQexec(raw, sql), expecting: expected, context: sql)
    }

    /// Wraps a libpq result pointer, failing on nil or an unexpected status.
    func check(_ pointer: OpaquePointer?, expecting expected: ExecStatusType, context: String) throws -> PGResult {
        guard let pointer else { throw Failure("\(context): no result: \(errorMessage)") }
        let result = PGResult(pointer)
        guard result.status == expected else {
            let detail = result.errorMessage.isEmpty ? errorMessage : result.errorMessage
            throw Failure("\(context): status \(result.statusName): \(detail)")
        }
        return result
    }

    /// Collects the final results after COPY data has been streamed; the last must be COMMAND_OK.
    func finishCopy(context: String) throws -> PGResult {
        var final: PGResult?
        while let pointer = PQgetResult(raw) {
            let result = PGResult(pointer)
            guard result.status == PGRES_COMMAND_OK else {
                throw Failure("\(context): status \(result.statusName): \(result.errorMessage)")
            }
            final = result
        }
        guard let final else { throw Failure("\(context): no final result: \(errorMessage)") }
        return final
    }

    /// Runs `sql` and returns the single text value it yields.
    func scalar(_ sql: String) throws -> String {
        let result = try execute(sql, expecting: PGRES_TUPLES_OK)
        try result.expectSingleRow(columns: 1, context: sql)
        return result.text(0, 0)
    }
}
