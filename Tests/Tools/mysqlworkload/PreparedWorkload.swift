import CMariaDB
import WorkloadSupport

/// `prepared`: one server-side prepared statement executed `count` times with bound BIGINT, binary
/// string and NULL parameters; every row is fetched in the binary protocol and checked on the client
/// (sum, SHA-256 via `sha2()`, byte-exact echo, NULL test).
struct PreparedWorkload {
    let count: Int

    private static let sql = "select ? + ?, sha2(?, 256), ?, ? is null"
    private static let maximumWordLength = 20_000

    func run(_ connection: MariaDBConnection) throws {
        let stopwatch = Stopwatch()
        let statement = try MariaDBStatement(connection, Self.sql)
        let parameters = BindArray(count: 5)
        parameters.allocate(0, type: MYSQL_TYPE_LONGLONG, capacity: 8)
        parameters.allocate(1, type: MYSQL_TYPE_LONGLONG, capacity: 8)
        parameters.allocate(2, type: MYSQL_TYPE_BLOB, capacity: Self.maximumWordLength)
        parameters.allocate(3, type: MYSQL_TYPE_BLOB, capacity: Self.maximumWordLength)
        parameters.allocate(4, type: MYSQL_TYPE_LONGLONG, capacity: 8)
        try statement.bindParameters(parameters)
        let results = BindArray(count: 4)
        results.allocate(0, type: MYSQL_TYPE_LONGLONG, capacity: 8)
        results.allocate(1, type: MYSQL_TYPE_STRING, capacity: 65)
        results.allocate(2, type: MYSQL_TYPE_BLOB, capacity: Self.maximumWordLength)
        results.allocate(3, type: MYSQL_TYPE_LONGLONG, capacity: 8)
        try statement.bindResults(results)

        for iteration in 0..<count {
            try executeOnce(statement, parameters, results, iteration: iteration)
        }
        let seconds = stopwatch.seconds
        Output.fact("prepared_ok", count)
        Output.fact("seconds", seconds)
        Output.fact("queries_per_s", seconds > 0 ? Double(count) / seconds : 0)
    }

    private func executeOnce(
        _ statement: MariaDBStatement, _ parameters: BindArray, _ results: BindArray, iteration: Int
    ) throws {
        let scale: Int64 = iteration % 7 == 3 ? 10_000_000 : 1
        let left = (Int64(iteration) * 7_919 % 200_001 - 100_000) * scale
        let right = Int64(iteration) * 104_729 % 300_007 - 150_000
        let word = Self.word(iteration)
        let sendsNull = iteration % 2 == 0
        parameters.setInt64(0, left)
        parameters.setInt64(1, right)
        try parameters.setBytes(2, word)
        try parameters.setBytes(3, word)
        parameters.setInt64(4, 0)
        parameters.setNull(4, sendsNull)

        let context = "execution #\(iteration)"
        try statement.execute()
        guard try statement.fetch() else { throw Failure("\(context): no row") }
        let sum = results.int64(0)
        let hash = String(decoding: results.bytes(1), as: UTF8.self)
        let echo = results.bytes(2)
        let isNull = results.int64(3)
        guard try !statement.fetch() else { throw Failure("\(context): more than one row") }

        guard !results.isNull(0), sum == left + right else {
            throw Failure("\(context): ? + ? returned \(sum), expected \(left + right)")
        }
        let expectedHash = SHA256.hex(word)
        guard hash == expectedHash else {
            throw Failure("\(context): sha2 of \(word.count) bytes returned '\(hash)', expected \(expectedHash)")
        }
        guard echo == word else {
            throw Failure("\(context): echoed parameter differs (\(echo.count) bytes back, \(word.count) sent)")
        }
        guard isNull == (sendsNull ? 1 : 0) else {
            throw Failure("\(context): ? is null returned \(isNull) for a \(sendsNull ? "NULL" : "non-NULL") parameter")
        }
    }

    /// Deterministic binary bytes (every value 0...255 occurs, including NUL) whose length varies
    /// from 0 to 300, with a 20 000-byte value every 100th execution.
    private static func word(_ iteration: Int) -> [UInt8] {
        let length = iteration % 100 == 99 ? maximumWordLength : iteration * 13 % 301
        return (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ iteration &* 7) }
    }
}
