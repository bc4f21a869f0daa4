import CMariaDB
import WorkloadSupport

/// A server-side prepared statement (binary protocol: COM_STMT_PREPARE / EXECUTE / FETCH),
/// closed with `mysql_stmt_close`.
final class MariaDBStatement {
    let raw: UnsafeMutablePointer<MYSQL_STMT>
    private let sql: String

    init(_ connection: MariaDBConnection, _ sql: String) throws {
        guard let statement = mysql_stmt_init(connection.raw) else {
            throw Failure("mysql_stmt_init failed: \(connection.errorMessage)")
        }
        var text = sql
        let status = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                mysql_stmt_prepare(statement, chars.baseAddress, UInt(chars.count))
            }
        }
        guard status == 0 else {
            let message = Self.error(statement)
            mysql_stmt_close(statement)
            throw Failure("mysql_stmt_prepare(\(sql)): \(message)")
        }
        raw = statement
        self.sql = sql
    }

    deinit {
        mysql_stmt_close(raw)
    }

    var parameterCount: Int { Int(mysql_stmt_param_count(raw)) }
    var fieldCount: Int { Int(mysql_stmt_field_count(raw)) }
    var affectedRows: UInt64 { mysql_stmt_affected_rows(raw) }

    /// Binds `binds` as the statement's parameters; their buffers are read again at every `execute`.
    func bindParameters(_ binds: BindArray) throws {
        guard binds.count == parameterCount else {
            throw Failure("\(sql): \(binds.count) parameter binds for \(parameterCount) placeholders")
        }
        guard mysql_stmt_bind_param(raw, binds.binds) == 0 else { throw failure("mysql_stmt_bind_param") }
    }

    /// Binds `binds` as the result columns; `fetch` fills their buffers.
    func bindResults(_ binds: BindArray) throws {
        guard binds.count == fieldCount else {
            throw Failure("\(sql): \(binds.count) result binds for \(fieldCount) columns")
        }
        guard mysql_stmt_bind_result(raw, binds.binds) == 0 else { throw failure("mysql_stmt_bind_result") }
    }

    /// Streams one piece of parameter `index` with COM_STMT_SEND_LONG_DATA (no server reply).
    func sendLongData(parameter index: Int, _ bytes: UnsafeRawBufferPointer) throws {
        let status = bytes.withMemoryRebound(to: CChar.self) { chars in
            mysql_stmt_send_long_data(raw, UInt32(index), chars.baseAddress, UInt(chars.count))
        }
        guard status == 0 else { throw failure("mysql_stmt_send_long_data") }
    }

    func execute() throws {
        guard mysql_stmt_execute(raw) == 0 else { throw failure("mysql_stmt_execute") }
    }

    /// Fetches the next row into the result binds: true for a row, false at the end of the result.
    /// A truncated column is a failure (the result buffers are sized for the expected values).
    func fetch() throws -> Bool {
        switch mysql_stmt_fetch(raw) {
        case 0:
            return true
        case MYSQL_NO_DATA:
            return false
        case MYSQL_DATA_TRUNCATED:
            throw Failure("\(sql): mysql_stmt_fetch: a column was truncated")
        default:
            throw failure("mysql_stmt_fetch")
        }
    }

    private func failure(_ call: String) -> Failure {
        Failure("\(call)(\(sql)): \(Self.error(raw))")
    }

    private static func error(_ statement: UnsafeMutablePointer<MYSQL_STMT>) -> String {
        let message = mysql_stmt_error(statement).map { String(cString: $0) } ?? ""
        return "[\(mysql_stmt_errno(statement))] \(message)"
    }
}

/// An array of `MYSQL_BIND` with the length, NULL and error indicators and data buffers they point
/// to, all owned here so they stay valid (and at fixed addresses) between bind, execute and fetch.
final class BindArray {
    let binds: UnsafeMutablePointer<MYSQL_BIND>
    let count: Int
    private let lengths: UnsafeMutablePointer<UInt>
    private let nulls: UnsafeMutablePointer<my_bool>
    private let errors: UnsafeMutablePointer<my_bool>
    private var ownedBuffers: [UnsafeMutableRawPointer] = []

    init(count: Int) {
        self.count = count
        binds = .allocate(capacity: count)
        binds.initialize(repeating: MYSQL_BIND(), count: count)
        lengths = .allocate(capacity: count)
        lengths.initialize(repeating: 0, count: count)
        nulls = .allocate(capacity: count)
        nulls.initialize(repeating: 0, count: count)
        errors = .allocate(capacity: count)
        errors.initialize(repeating: 0, count: count)
        for index in 0..<count {
            binds[index].length = lengths + index
            binds[index].is_null = nulls + index
            binds[index].error = errors + index
        }
    }

    deinit {
        ownedBuffers.forEach { $0.deallocate() }
        binds.deallocate()
        lengths.deallocate()
        nulls.deallocate()
        errors.deallocate()
    }

    /// Gives slot `index` a zeroed buffer of `capacity` bytes owned by this array.
    func allocate(_ index: Int, type: enum_field_types, capacity: Int) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1), alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: max(capacity, 1))
        ownedBuffers.append(buffer)
        binds[index].buffer_type = type
        binds[index].buffer = buffer
        binds[index].buffer_length = UInt(capacity)
    }

    /// Points slot `index` at caller-owned memory (or none, for COM_STMT_SEND_LONG_DATA parameters).
    func point(_ index: Int, type: enum_field_types, at bytes: UnsafeMutableRawBufferPointer?) {
        binds[index].buffer_type = type
        binds[index].buffer = bytes?.baseAddress
        binds[index].buffer_length = UInt(bytes?.count ?? 0)
        lengths[index] = UInt(bytes?.count ?? 0)
    }

    func setNull(_ index: Int, _ isNull: Bool) {
        nulls[index] = isNull ? 1 : 0
    }

    func setInt64(_ index: Int, _ value: Int64) {
        binds[index].buffer?.storeBytes(of: value, as: Int64.self)
        lengths[index] = 8
        nulls[index] = 0
    }

    /// Copies `bytes` into slot `index`'s owned buffer (which must be large enough) and sets its length.
    func setBytes(_ index: Int, _ bytes: [UInt8]) throws {
        guard let buffer = binds[index].buffer, UInt(bytes.count) <= binds[index].buffer_length else {
            throw Failure("parameter \(index): \(bytes.count) bytes exceed the \(binds[index].buffer_length)-byte buffer")
        }
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { buffer.copyMemory(from: base, byteCount: source.count) }
        }
        lengths[index] = UInt(bytes.count)
        nulls[index] = 0
    }

    func isNull(_ index: Int) -> Bool { nulls[index] != 0 }

    func int64(_ index: Int) -> Int64 {
        binds[index].buffer?.load(as: Int64.self) ?? 0
    }

    /// The fetched bytes of slot `index` (its length as reported by the server, capped at the buffer).
    func bytes(_ index: Int) -> [UInt8] {
        guard let buffer = binds[index].buffer else { return [] }
        let length = Int(min(lengths[index], binds[index].buffer_length))
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }
}
