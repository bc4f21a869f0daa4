import CLibPQ
import WorkloadSupport

/// `copy-in`: creates the table, streams deterministic rows with PQputCopyData in chunks and
/// compares the client digest with the server digest.
struct CopyInWorkload {
    let megabytes: Int
    let table: String
    let seed: UInt64
    let keep: Bool

    private static let chunkBytes = 256 * 1024

    func run(_ connection: PGConnection) throws {
        try connection.execute("drop table if exists \(table)")
        try connection.execute("create table \(table) (id bigint, payload text)")

        let targetBytes = megabytes * 1_048_576
        let stopwatch = Stopwatch()
        let (digest, sentBytes) = try stream(connection, targetBytes: targetBytes)
        let copySeconds = stopwatch.seconds

        try CopyResult.check(
            "copy_in", digest: digest, bytes: sentBytes, seconds: copySeconds, table: table, keep: keep, on: connection)
    }

    /// Sends rows until at least `targetBytes` of COPY text went out; memory stays at one chunk.
    private func stream(_ connection: PGConnection, targetBytes: Int) throws -> (RowDigest, Int) {
        let context = "copy \(table) from stdin"
        try connection.execute("copy \(table) (id, payload) from stdin", expecting: PGRES_COPY_IN)

        let capacity = Self.chunkBytes + RowGenerator.maximumLineBytes
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { chunk.deallocate() }

        var generator = RowGenerator(seed: seed)
        var digest = RowDigest()
        var sentBytes = 0
        var used = 0
        var id = 0
        while sentBytes + used < targetBytes {
            id += 1
            let line = chunk + used
            let row = generator.writeRow(id: id, to: line)
            digest.add(UnsafeRawBufferPointer(start: line, count: row.length))
            line.storeBytes(of: UInt8(ascii: "\t"), toByteOffset: row.separator, as: UInt8.self)
            line.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: row.length, as: UInt8.self)
            used += row.length + 1
            if used >= Self.chunkBytes {
                try put(connection, chunk, used, context: context)
                sentBytes += used
                used = 0
            }
        }
        if used > 0 {
            try put(connection, chunk, used, context: context)
            sentBytes += used
        }
        guard PQputCopyEnd(connection.raw, nil) == 1 else {
            throw Failure("\(context): PQputCopyEnd failed: \(connection.errorMessage)")
        }
        let result = try connection.finishCopy(context: context)
        let reported = String(cString: PQcmdTuples(result.raw))
        guard reported == String(digest.rows) else {
            throw Failure("\(context): server reported \(reported) rows, client sent \(digest.rows)")
        }
        return (digest, sentBytes)
    }

    private func put(_ connection: PGConnection, _ chunk: UnsafeMutableRawPointer, _ count: Int, context: String) throws {
        let status = PQputCopyData(connection.raw, chunk.assumingMemoryBound(to: CChar.self), Int32(count))
        guard status == 1 else {
            throw Failure("\(context): PQputCopyData failed: \(connection.errorMessage)")
        }
    }
}
