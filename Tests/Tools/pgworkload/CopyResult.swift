import WorkloadSupport

/// What both COPY workloads do once the rows have moved: compute the server's digest of the
/// table, print the figures, fail on a mismatch, and drop the table unless asked to keep it.
enum CopyResult {
    /// `direction` is `copy_in` or `copy_out`, the prefix of the row and byte facts.
    static func check(
        _ direction: String, digest: RowDigest, bytes: Int, seconds: Double, table: String, keep: Bool, on connection: PGConnection
    ) throws {
        let digestWatch = Stopwatch()
        let serverDigest = try RowDigest.server(connection, table: table)
        let digestSeconds = digestWatch.seconds

        Output.fact("\(direction)_rows", digest.rows)
        Output.fact("\(direction)_bytes", bytes)
        Output.fact("seconds", seconds)
        Output.fact("mb_per_s", Stopwatch.mebibytesPerSecond(bytes: bytes, seconds: seconds))
        Output.fact("server_digest_seconds", digestSeconds)
        Output.fact("client_digest", digest.text)
        Output.fact("server_digest", serverDigest)
        guard digest.text == serverDigest else {
            throw Failure("\(direction.replacingDash) digest mismatch: client \(digest.text), server \(serverDigest)")
        }
        if !keep {
            try connection.execute("drop table \(table)")
        }
        Output.fact("table_kept", keep ? "true" : "false")
    }
}

extension String {
    /// `copy_in` -> `copy-in`, as the subcommand is called.
    fileprivate var replacingDash: String { String(map { $0 == "_" ? "-" : $0 }) }
}
