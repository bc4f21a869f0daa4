/// Order-independent digest of a table's rows, computed identically by the client and by SQL.
///
/// For each row the text `id || ',' || payload` is hashed with MD5; the first 15 hex digits
/// (the top 60 bits) are read as an unsigned integer and summed modulo 2^64. The digest is
/// `"<row count>:<sum>"`.
struct RowDigest {
    private(set) var rows = 0
    private var sum: UInt64 = 0

    var text: String { "\(rows):\(sum)" }

    /// Adds one row given as the bytes of `id,payload`.
    mutating func add(_ row: UnsafeRawBufferPointer) {
        rows += 1
        sum &+= MD5.leadingBits(MD5.digest(row)) &>> 4
    }

    /// The same digest computed by the server over `table`.
    static func server(_ connection: PGConnection, table: String) throws -> String {
        let hashed = "('x' || substr(md5(id::text || ',' || payload), 1, 15))::bit(60)::bigint"
        return try connection.scalar("""
            select count(*)::text || ':' || (coalesce(sum(\(hashed)), 0) % 18446744073709551616)::text from \(table)
            """)
    }
}
