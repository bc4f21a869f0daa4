import CMariaDB
import WorkloadSupport

/// A blocking libmariadb connection over TCP; every failure becomes a `Failure` carrying
/// libmariadb's error number and message.
final class MariaDBConnection {
    let raw: UnsafeMutablePointer<MYSQL>

    init(_ options: ConnectionOptions) throws {
        guard let handle = mysql_init(nil) else { throw Failure("mysql_init returned no connection object") }
        do {
            try Self.configure(handle, options)
            let connected = Self.withOptionalCString(options.password) { password in
                Self.withOptionalCString(options.database) { database in
                    mysql_real_connect(handle, options.host, options.user, password, database, options.port, nil, 0)
                }
            }
            guard connected != nil else { throw Failure("connection failed: \(Self.error(handle))") }
            try Self.checkTLS(handle, mode: options.sslMode)
        } catch {
            mysql_close(handle)
            throw error
        }
        raw = handle
    }

    deinit {
        mysql_close(raw)
    }

    var errorMessage: String { Self.error(raw) }

    /// The cipher libmariadb negotiated with the peer it talks to, or nil on a plain connection.
    var sslCipher: String? {
        mysql_get_ssl_cipher(raw).map { String(cString: $0) }
    }

    /// The TLS protocol version of this connection (`TLSv1.3`), or nil on a plain connection.
    var tlsVersion: String? {
        guard sslCipher != nil else { return nil }
        var version: UnsafePointer<CChar>?
        guard mariadb_get_info(raw, MARIADB_CONNECTION_TLS_VERSION, &version) == 0, let version else { return nil }
        return String(cString: version)
    }

    var serverInfo: String {
        mysql_get_server_info(raw).map { String(cString: $0) } ?? ""
    }

    /// Runs a text-protocol statement and discards any result set; returns the affected-row count.
    @discardableResult
    func execute(_ sql: String) throws -> UInt64 {
        try send(sql)
        if let result = mysql_store_result(raw) {
            mysql_free_result(result)
        } else if mysql_field_count(raw) != 0 {
            throw Failure("\(sql): reading the result failed: \(errorMessage)")
        }
        return mysql_affected_rows(raw)
    }

    /// Runs a text-protocol query (buffered with `mysql_store_result`) and returns every row, NULL as nil.
    func rows(_ sql: String) throws -> [[String?]] {
        try send(sql)
        guard let result = mysql_store_result(raw) else {
            throw Failure("\(sql): no result set: \(mysql_field_count(raw) == 0 ? "statement returned no columns" : errorMessage)")
        }
        defer { mysql_free_result(result) }
        let columns = Int(mysql_num_fields(result))
        var rows: [[String?]] = []
        while let row = mysql_fetch_row(result) {
            guard let lengths = mysql_fetch_lengths(result) else { throw Failure("\(sql): no field lengths") }
            rows.append((0..<columns).map { column in
                row[column].map { field in
                    field.withMemoryRebound(to: UInt8.self, capacity: Int(lengths[column])) { bytes in
                        String(decoding: UnsafeBufferPointer(start: bytes, count: Int(lengths[column])), as: UTF8.self)
                    }
                }
            })
        }
        guard mysql_errno(raw) == 0 else { throw Failure("\(sql): fetching rows failed: \(errorMessage)") }
        return rows
    }

    /// Runs `sql`, which must yield exactly one row of one column; NULL comes back as nil.
    func scalar(_ sql: String) throws -> String? {
        let result = try rows(sql)
        guard result.count == 1, result[0].count == 1 else {
            throw Failure("\(sql): expected 1 row x 1 column, got \(result.count) x \(result.first?.count ?? 0)")
        }
        return result[0][0]
    }

    /// Runs a query that yields one row of one non-NULL column and hands `body` that field's bytes
    /// straight from libmariadb's receive buffer (`mysql_use_result`: no second copy of a large value).
    func withSingleField<Result>(_ sql: String, _ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        try send(sql)
        guard let result = mysql_use_result(raw) else { throw Failure("\(sql): no result set: \(errorMessage)") }
        defer { mysql_free_result(result) }
        guard mysql_num_fields(result) == 1 else { throw Failure("\(sql): expected 1 column, got \(mysql_num_fields(result))") }
        guard let row = mysql_fetch_row(result) else {
            throw Failure("\(sql): no row\(mysql_errno(raw) == 0 ? "" : ": \(errorMessage)")")
        }
        guard let field = row[0], let lengths = mysql_fetch_lengths(result) else { throw Failure("\(sql): NULL value") }
        let value = try body(UnsafeRawBufferPointer(start: UnsafeRawPointer(field), count: Int(lengths[0])))
        guard mysql_fetch_row(result) == nil else { throw Failure("\(sql): more than one row") }
        guard mysql_errno(raw) == 0 else { throw Failure("\(sql): fetching rows failed: \(errorMessage)") }
        return value
    }

    /// Sends one COM_QUERY with `mysql_real_query` (length-delimited, so any bytes are allowed).
    func send(_ sql: String) throws {
        var text = sql
        let status = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                mysql_real_query(raw, chars.baseAddress, UInt(chars.count))
            }
        }
        guard status == 0 else { throw Failure("\(sql): \(errorMessage)") }
    }

    static func error(_ handle: UnsafeMutablePointer<MYSQL>) -> String {
        let message = mysql_error(handle).map { String(cString: $0) } ?? ""
        return "[\(mysql_errno(handle))] \(message)"
    }

    /// Applies the TLS policy (see README.md for the mapping) plus TCP and a connect timeout.
    private static func configure(_ handle: UnsafeMutablePointer<MYSQL>, _ options: ConnectionOptions) throws {
        // "localhost" would otherwise mean the Unix socket.
        var protocolType = MYSQL_PROTOCOL_TCP.rawValue
        try setOption(handle, MYSQL_OPT_PROTOCOL, &protocolType, name: "MYSQL_OPT_PROTOCOL")
        var connectTimeout: UInt32 = 10
        try setOption(handle, MYSQL_OPT_CONNECT_TIMEOUT, &connectTimeout, name: "MYSQL_OPT_CONNECT_TIMEOUT")
        // MYSQL_OPT_SSL_ENFORCE sets libmariadb's use_ssl flag: 0 means no TLS at all.
        var useTLS: my_bool = options.sslMode == .disabled ? 0 : 1
        try setOption(handle, MYSQL_OPT_SSL_ENFORCE, &useTLS, name: "MYSQL_OPT_SSL_ENFORCE")
        var verifyIdentity: my_bool = options.sslMode == .verifyIdentity ? 1 : 0
        try setOption(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verifyIdentity, name: "MYSQL_OPT_SSL_VERIFY_SERVER_CERT")
        if let ca = options.sslCA {
            let status = ca.withCString { mysql_options(handle, MYSQL_OPT_SSL_CA, $0) }
            guard status == 0 else { throw Failure("mysql_options(MYSQL_OPT_SSL_CA) failed: \(error(handle))") }
        }
    }

    private static func setOption<Value>(
        _ handle: UnsafeMutablePointer<MYSQL>, _ option: mysql_option, _ value: inout Value, name: String
    ) throws {
        let status = withUnsafePointer(to: &value) { mysql_options(handle, option, UnsafeRawPointer($0)) }
        guard status == 0 else { throw Failure("mysql_options(\(name)) failed: \(error(handle))") }
    }

    /// libmariadb 3.3 silently falls back to plain text when use_ssl is set but the server offers no
    /// TLS and no verification was asked for, so `required` is enforced here; `disabled` is checked too.
    private static func checkTLS(_ handle: UnsafeMutablePointer<MYSQL>, mode: ConnectionOptions.SSLMode) throws {
        let encrypted = mysql_get_ssl_cipher(handle) != nil
        switch mode {
        case .disabled where encrypted:
            throw Failure("TLS is in use although --ssl-mode is disabled")
        case .required where !encrypted, .verifyCA where !encrypted, .verifyIdentity where !encrypted:
            throw Failure("--ssl-mode \(mode.rawValue): the server did not negotiate TLS")
        default:
            break
        }
    }

    private static func withOptionalCString<Result>(
        _ text: String?, _ body: (UnsafePointer<CChar>?) -> Result
    ) -> Result {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }
}
