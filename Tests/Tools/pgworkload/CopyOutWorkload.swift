import CLibPQ
import WorkloadSupport

/// `copy-out`: reads the table with COPY TO STDOUT / PQgetCopyData (one row per call, freed at
/// once) and compares the digest of the received rows with the server digest.
struct CopyOutWorkload {
    let table: String
    let keep: Bool

    func run(_ connection: PGConnection) throws {
        guard try connection.scalar("select to_regclass('\(table)') is not null") == "t" else {
            throw Failure("table \(table) does not exist (create it with copy-in --keep)")
        }
        let stopwatch = Stopwatch()
        let (digest, receivedBytes) = try receive(connection)
        let copySeconds = stopwatch.seconds

        try CopyResult.check(
            "copy_out", digest: digest, bytes: receivedBytes, seconds: copySeconds, table: table, keep: keep, on: connection)
    }

    private func receive(_ connection: PGConnection) throws -> (RowDigest, Int) {
        let context = "copy \(table) to stdout"
        try connection.execute("copy \(table) (id, payload) to stdout", expecting: PGRES_COPY_OUT)
        var digest = RowDigest()
        var receivedBytes = 0
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(connection.raw, &buffer, 0)
            if length == -1 { break }
            guard length > 0, let buffer else {
                throw Failure("\(context): PQgetCopyData failed: \(connection.errorMessage)")
            }
            defer { PQfreemem(buffer) }
            receivedBytes += Int(length)
            try hashLine(UnsafeMutableRawPointer(buffer), count: Int(length), into: &digest, context: context)
        }
        let result = try connection.finishCopy(context: context)
        let reported = String(cString: PQcmdTuples(result.raw))
        guard reported == String(digest.rows) else {
            throw Failure("\(context): server reported \(reported) rows, client received \(digest.rows)")
        }
        return (digest, receivedBytes)
    }

    /// Turns the libpq-owned line `id<TAB>payload<LF>` into `id,payload` in place and hashes it.
    private func hashLine(_ line: UnsafeMutableRawPointer, count: Int, into digest: inout RowDigest, context: String) throws {
        let bytes = UnsafeMutableRawBufferPointer(start: line, count: count)
        guard count >= 2, bytes[count - 1] == UInt8(ascii: "\n") else {
            throw Failure("\(context): row \(digest.rows + 1) is not a newline-terminated text line")
        }
        var separator = 0
        while separator < count - 1, bytes[separator] != UInt8(ascii: "\t") {
            separator += 1
        }
        guard separator < count - 1 else {
            throw Failure("\(context): row \(digest.rows + 1) has no tab separator")
        }
        bytes[separator] = UInt8(ascii: ",")
        digest.add(UnsafeRawBufferPointer(start: line, count: count - 1))
    }
}
