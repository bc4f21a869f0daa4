import NIOCore

/// An ErrorResponse (`E`) or NoticeResponse (`N`): severity, SQLSTATE, message and more fields.
public struct PostgresErrorResponse: Sendable, Hashable {
    /// The non-localized severity (field `V`, also written as `S`).
    public enum Severity: String, Sendable {
        case error = "ERROR", fatal = "FATAL", panic = "PANIC", warning = "WARNING", notice = "NOTICE"
        case info = "INFO", log = "LOG", debug = "DEBUG"
    }

    /// The severity.
    public var severity: Severity
    /// The five-character SQLSTATE (field `C`); see `PostgresSQLState`.
    public var sqlState: String
    /// The primary message (field `M`).
    public var message: String
    /// The optional detail (field `D`).
    public var detail: String?
    /// The optional hint (field `H`).
    public var hint: String?
    /// Every other field by code byte (e.g. `F` file, `L` line, `R` routine); written after the
    /// fields above in code order.
    public var otherFields: [UInt8: String]

    /// Creates an error; the severity defaults to FATAL, which ends the session.
    public init(severity: Severity = .fatal, sqlState: String, message: String, detail: String? = nil, hint: String? = nil) {
        self.severity = severity
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.otherFields = [:]
    }

    /// All fields (code byte -> value), as they would be written (`S` and `V` both the severity).
    public var fields: [UInt8: String] {
        var all = otherFields
        all[FieldCode.severity] = severity.rawValue
        all[FieldCode.severityNonLocalized] = severity.rawValue
        all[FieldCode.sqlState] = sqlState
        all[FieldCode.message] = message
        all[FieldCode.detail] = detail
        all[FieldCode.hint] = hint
        return all
    }

    /// Writes an `E` message: fields S, V, C, M, then D and H when set, then the others.
    public func write(into buffer: inout ByteBuffer) {
        write(type: PostgresMessageType.errorResponse, into: &buffer)
    }

    /// Writes an `N` NoticeResponse with the same fields.
    public func writeNotice(into buffer: inout ByteBuffer) {
        write(type: PostgresMessageType.noticeResponse, into: &buffer)
    }

    private func write(type: UInt8, into buffer: inout ByteBuffer) {
        buffer.writeInteger(type)
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        var ordered: [(UInt8, String)] = [
            (FieldCode.severity, severity.rawValue),
            (FieldCode.severityNonLocalized, severity.rawValue),
            (FieldCode.sqlState, sqlState),
            (FieldCode.message, message),
        ]
        if let detail { ordered.append((FieldCode.detail, detail)) }
        if let hint { ordered.append((FieldCode.hint, hint)) }
        for code in otherFields.keys.sorted() where !FieldCode.modelled.contains(code) {
            ordered.append((code, otherFields[code] ?? ""))
        }
        for (code, value) in ordered {
            buffer.writeInteger(code)
            buffer.writePostgresCString(value)
        }
        buffer.writeInteger(UInt8(0))
        buffer.setInteger(Int32(buffer.writerIndex - lengthIndex), at: lengthIndex)
    }

    /// Parses the body of an `E` or `N` message as a server sends it. The severity comes from
    /// `V` when present (servers since 9.6), else `S`; `S`, `C` and `M` are required.
    public init(decodingBody body: ByteBuffer) throws(PostgresWireError) {
        var body = body
        var fields: [UInt8: String] = [:]
        while true {
            guard let code = body.readInteger(as: UInt8.self) else {
                throw PostgresWireError("error response fields are not terminated by a NUL byte")
            }
            if code == 0 { break }
            let name = PostgresMessageDecoder.printable(code)
            guard let value = try body.readPostgresCString(what: "error response field '\(name)'") else {
                throw PostgresWireError("error response field '\(name)' is not NUL-terminated")
            }
            fields[code] = value
        }
        guard body.readableBytes == 0 else {
            throw PostgresWireError("\(body.readableBytes) bytes follow the error response terminator")
        }
        guard let severityText = fields[FieldCode.severityNonLocalized] ?? fields[FieldCode.severity] else {
            throw PostgresWireError("error response has no severity field")
        }
        guard let severity = Severity(rawValue: severityText) else {
            throw PostgresWireError("error response has unknown severity '\(severityText)'")
        }
        guard let sqlState = fields[FieldCode.sqlState] else {
            throw PostgresWireError("error response has no SQLSTATE field")
        }
        guard let message = fields[FieldCode.message] else {
            throw PostgresWireError("error response has no message field")
        }
        self.init(severity: severity, sqlState: sqlState, message: message,
                  detail: fields[FieldCode.detail], hint: fields[FieldCode.hint])
        self.otherFields = fields.filter { !FieldCode.modelled.contains($0.key) }
    }

    /// Field code bytes.
    enum FieldCode {
        static let severity: UInt8 = 0x53  // S
        static let severityNonLocalized: UInt8 = 0x56  // V
        static let sqlState: UInt8 = 0x43  // C
        static let message: UInt8 = 0x4D  // M
        static let detail: UInt8 = 0x44  // D
        static let hint: UInt8 = 0x48  // H
        static let modelled: Set<UInt8> = [severity, severityNonLocalized, sqlState, message, detail, hint]
    }
}
