import CLibPQ
import WorkloadSupport

/// `prepared`: PQprepare + PQdescribePrepared, then PQexecPrepared `count` times with varying
/// parameters in every mix of text/binary parameter and result formats, verifying each result on
/// the client; then unnamed PQexecParams queries (bytea, NULL, both result formats).
struct PreparedWorkload {
    let count: Int

    private static let statementName = "pgworkload_stmt"
    private static let int4 = Oid(23)
    private static let text = Oid(25)

    func run(_ connection: PGConnection) throws {
        let stopwatch = Stopwatch()
        try prepare(connection)
        for iteration in 0..<count {
            try executePrepared(connection, iteration: iteration)
        }
        try connection.execute("deallocate \(Self.statementName)")
        let unnamedCount = max(1, count / 10)
        for iteration in 0..<unnamedCount {
            try executeUnnamed(connection, iteration: iteration)
        }
        let seconds = stopwatch.seconds
        Output.fact("prepared_ok", count)
        Output.fact("exec_params_ok", unnamedCount)
        Output.fact("seconds", seconds)
        Output.fact("queries_per_s", seconds > 0 ? Double(count + unnamedCount) / seconds : 0)
    }

    private func prepare(_ connection: PGConnection) throws {
        let sql = "select $1::int4 + $2::int4, md5($3::text), $3::text"
        let types = [Self.int4, Self.int4, Self.text]
        try types.withUnsafeBufferPointer { typePointer in
            _ = try connection.check(
                PQprepare(connection.raw, Self.statementName, sql, 3, typePointer.baseAddress),
                expecting: PGRES_COMMAND_OK, context: "PQprepare"
            )
        }
        let description = try connection.check(
            PQdescribePrepared(connection.raw, Self.statementName), expecting: PGRES_COMMAND_OK, context: "PQdescribePrepared"
        )
        let parameterTypes = (0..<PQnparams(description.raw)).map { PQparamtype(description.raw, $0) }
        let columnTypes = (0..<PQnfields(description.raw)).map { PQftype(description.raw, $0) }
        guard parameterTypes == types, columnTypes == [Self.int4, Self.text, Self.text] else {
            throw Failure("PQdescribePrepared: parameter types \(parameterTypes), column types \(columnTypes)")
        }
    }

    /// Iteration `i` uses binary int parameters when bit 0 is set and a binary result when bit 1 is set.
    private func executePrepared(_ connection: PGConnection, iteration: Int) throws {
        let left = Int32(iteration * 7_919 % 200_001) - 100_000
        let right = Int32(iteration * 104_729 % 300_007) - 150_000
        let word = Self.word(iteration)
        let binaryParameters = iteration & 1 == 1
        let binaryResult = iteration & 2 == 2
        let parameters: [PGParameter] = binaryParameters
            ? [.binaryInt32(left), .binaryInt32(right), .text(word)]
            : [.text(String(left)), .text(String(right)), .text(word)]
        let context = "PQexecPrepared #\(iteration)"
        let result = try PGParameterArrays.with(parameters) { arrays in
            try connection.check(
                PQexecPrepared(connection.raw, Self.statementName, arrays.count, arrays.values, arrays.lengths,
                               arrays.formats, binaryResult ? 1 : 0),
                expecting: PGRES_TUPLES_OK, context: context
            )
        }
        try result.expectSingleRow(columns: 3, context: context)
        let expectedHash = Array(MD5.hex(Array(word.utf8).withUnsafeBytes { MD5.digest($0) }).utf8)
        let sum = binaryResult ? Self.decodeInt32(result.bytes(0, 0)).map(String.init) : result.text(0, 0)
        guard sum == String(left + right), result.bytes(0, 1) == expectedHash, result.bytes(0, 2) == Array(word.utf8) else {
            throw Failure("\(context): wrong result (sum \(sum ?? "undecodable"), expected \(left + right); word length \(word.utf8.count))")
        }
    }

    /// Unnamed statement with a bytea parameter in binary, a NULL, and alternating result formats.
    private func executeUnnamed(_ connection: PGConnection, iteration: Int) throws {
        let first = "u\(iteration)-"
        let second = Self.word(iteration * 3 + 1)
        let blob = (0..<(256 + iteration % 64)).map { UInt8(truncatingIfNeeded: $0 &+ iteration) }
        let binaryResult = iteration & 1 == 1
        let sql = "select $1::text || $2::text, length($1::text || $2::text), $3::bytea, $4::text is null"
        let context = "PQexecParams #\(iteration)"
        let result = try PGParameterArrays.with([.text(first), .text(second), .binary(blob), .null]) { arrays in
            try connection.check(
                PQexecParams(connection.raw, sql, arrays.count, nil, arrays.values, arrays.lengths, arrays.formats,
                             binaryResult ? 1 : 0),
                expecting: PGRES_TUPLES_OK, context: context
            )
        }
        try result.expectSingleRow(columns: 4, context: context)
        let joined = first + second
        let length = binaryResult ? Self.decodeInt32(result.bytes(0, 1)).map(String.init) : result.text(0, 1)
        let bytea = binaryResult ? result.bytes(0, 2) : Array(("\\x" + Self.hex(blob)).utf8)
        let isNull = binaryResult ? result.bytes(0, 3) == [1] : result.text(0, 3) == "t"
        guard result.text(0, 0) == joined, length == String(joined.utf8.count), result.bytes(0, 2) == bytea, isNull else {
            throw Failure("\(context): wrong result")
        }
    }

    /// A deterministic ASCII word whose length varies from 0 to 300, with a 20 000-byte one every 100th.
    private static func word(_ iteration: Int) -> String {
        let length = iteration % 100 == 99 ? 20_000 : iteration * 13 % 301
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789 ,.;:!?-_'\"".utf8)
        let bytes = (0..<length).map { alphabet[($0 &* 31 &+ iteration) % alphabet.count] }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func decodeInt32(_ bytes: [UInt8]) -> Int32? {
        guard bytes.count == 4 else { return nil }
        return Int32(bitPattern: bytes.reduce(UInt32(0)) { ($0 << 8) | UInt32($1) })
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}
