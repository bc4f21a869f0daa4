import CMariaDB
import WorkloadSupport

/// `blob`: recreates `table (id int primary key, data longblob)`, inserts one deterministic
/// pseudo-random value of `megabytes` MiB with a prepared INSERT (binary protocol), then checks
/// SHA-256 three ways: computed locally, by the server (`sha2(data, 256)`), and over the value read
/// back with a text-protocol SELECT. Values above 16 MiB - 1 make every packet that carries them
/// span several MySQL protocol frames.
struct BlobWorkload {
    let megabytes: Int
    let table: String
    let seed: UInt64
    /// 0: the whole value in one bound buffer (one COM_STMT_EXECUTE packet); otherwise
    /// COM_STMT_SEND_LONG_DATA pieces of this many MiB.
    let chunkMegabytes: Int
    let keep: Bool

    func run(_ connection: MariaDBConnection) throws {
        let total = Stopwatch()
        let byteCount = megabytes * 1_048_576
        try checkMaxAllowedPacket(connection, byteCount: byteCount)

        let data = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 8)
        defer { data.deallocate() }
        Self.fill(data, seed: seed)
        let hashWatch = Stopwatch()
        let clientHash = SHA256.hex(UnsafeRawBufferPointer(data))
        let clientHashSeconds = hashWatch.seconds

        try connection.execute("drop table if exists \(table)")
        try connection.execute("create table \(table) (id int primary key, data longblob)")

        let insertWatch = Stopwatch()
        try insert(connection, data)
        let insertSeconds = insertWatch.seconds

        let serverWatch = Stopwatch()
        let serverRow = try connection.rows("select length(data), sha2(data, 256) from \(table) where id = 1")
        let serverSeconds = serverWatch.seconds
        guard serverRow.count == 1, serverRow[0].count == 2, let serverLength = serverRow[0][0],
              let serverHash = serverRow[0][1] else {
            throw Failure("select length(data), sha2(data, 256): expected one row with two non-NULL values")
        }

        let readWatch = Stopwatch()
        var fetchSeconds = 0.0
        let (readLength, readHash) = try connection.withSingleField("select data from \(table) where id = 1") { bytes in
            fetchSeconds = readWatch.seconds
            return (bytes.count, SHA256.hex(bytes))
        }
        let readSeconds = readWatch.seconds

        Output.fact("blob_bytes", byteCount)
        Output.fact("send_mode", chunkMegabytes == 0 ? "bound-buffer" : "send-long-data")
        Output.fact("client_sha256", clientHash)
        Output.fact("server_bytes", serverLength)
        Output.fact("server_sha256", serverHash)
        Output.fact("readback_bytes", readLength)
        Output.fact("readback_sha256", readHash)
        Output.fact("client_sha256_seconds", clientHashSeconds)
        Output.fact("insert_seconds", insertSeconds)
        Output.fact("insert_mb_per_s", Stopwatch.mebibytesPerSecond(bytes: byteCount, seconds: insertSeconds))
        Output.fact("server_sha256_seconds", serverSeconds)
        Output.fact("readback_fetch_seconds", fetchSeconds)
        Output.fact("readback_mb_per_s", Stopwatch.mebibytesPerSecond(bytes: byteCount, seconds: fetchSeconds))
        Output.fact("readback_seconds", readSeconds)
        guard serverLength == String(byteCount), serverHash == clientHash else {
            throw Failure("server holds \(serverLength) bytes with sha256 \(serverHash); client sent \(byteCount) bytes with \(clientHash)")
        }
        guard readLength == byteCount, readHash == clientHash else {
            throw Failure("read back \(readLength) bytes with sha256 \(readHash); client sent \(byteCount) bytes with \(clientHash)")
        }
        if !keep {
            try connection.execute("drop table \(table)")
        }
        Output.fact("table_kept", keep ? "true" : "false")
        Output.fact("seconds", total.seconds)
    }

    /// The server drops the connection (2006) or answers 1153/1105 when the INSERT's data exceeds
    /// max_allowed_packet, so say up front which server setting the run needs. Reading the value back
    /// needs no setting: the server sends rows larger than max_allowed_packet.
    private func checkMaxAllowedPacket(_ connection: MariaDBConnection, byteCount: Int) throws {
        let text = try connection.scalar("select @@max_allowed_packet") ?? ""
        Output.fact("max_allowed_packet", text)
        guard let limit = Int(text) else { throw Failure("select @@max_allowed_packet returned '\(text)'") }
        // COM_STMT_EXECUTE adds ~33 bytes of header to a bound value; long data counts the value
        // alone (the server accepts a total equal to the limit) plus each piece's own packet.
        let headroom = 1_024
        let needed = chunkMegabytes == 0
            ? byteCount + headroom
            : max(byteCount, min(chunkMegabytes * 1_048_576, byteCount) + headroom)
        guard limit >= needed else {
            let suggestion = (needed + 1_048_575) / 1_048_576
            throw Failure(
                "server max_allowed_packet=\(limit) is below the \(needed) bytes this insert needs; start the server with "
                    + "--max-allowed-packet=\(suggestion)M or more (SET GLOBAL max_allowed_packet needs SUPER)"
            )
        }
    }

    private func insert(_ connection: MariaDBConnection, _ data: UnsafeMutableRawBufferPointer) throws {
        let statement = try MariaDBStatement(connection, "insert into \(table) (id, data) values (?, ?)")
        let parameters = BindArray(count: 2)
        parameters.allocate(0, type: MYSQL_TYPE_LONGLONG, capacity: 8)
        parameters.setInt64(0, 1)
        parameters.point(1, type: MYSQL_TYPE_LONG_BLOB, at: chunkMegabytes == 0 ? data : nil)
        try statement.bindParameters(parameters)
        if chunkMegabytes > 0 {
            let chunkBytes = chunkMegabytes * 1_048_576
            var offset = 0
            var pieces = 0
            repeat {
                let count = min(chunkBytes, data.count - offset)
                try statement.sendLongData(parameter: 1, UnsafeRawBufferPointer(rebasing: data[offset..<(offset + count)]))
                offset += count
                pieces += 1
            } while offset < data.count
            Output.fact("long_data_pieces", pieces)
        }
        try statement.execute()
        guard statement.affectedRows == 1 else {
            throw Failure("insert into \(table): \(statement.affectedRows) rows affected, expected 1")
        }
    }

    /// SplitMix64 output, little-endian, 8 bytes at a time: reproducible for a given seed.
    private static func fill(_ data: UnsafeMutableRawBufferPointer, seed: UInt64) {
        guard let base = data.baseAddress else { return }
        var state = seed
        var offset = 0
        while offset < data.count {
            state &+= 0x9e37_79b9_7f4a_7c15
            var mixed = state
            mixed = (mixed ^ (mixed &>> 30)) &* 0xbf58_476d_1ce4_e5b9
            mixed = (mixed ^ (mixed &>> 27)) &* 0x94d0_49bb_1331_11eb
            mixed ^= mixed &>> 31
            var byte = 0
            while byte < 8, offset < data.count {
                base.storeBytes(of: UInt8(truncatingIfNeeded: mixed &>> UInt64(byte &* 8)), toByteOffset: offset, as: UInt8.self)
                byte &+= 1
                offset &+= 1
            }
        }
    }
}
