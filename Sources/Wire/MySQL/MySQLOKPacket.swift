import NIOCore

/// OK_Packet (protocol 4.1): header 0x00 (0xFE when it replaces EOF), affected rows, last insert
/// id, status flags, warnings, then info and, with session tracking, the session state changes.
public struct MySQLOKPacket: Sendable, Hashable {
    /// `SERVER_SESSION_STATE_CHANGED`: session state changes follow the info.
    public static let sessionStateChangedFlag: UInt16 = 0x4000

    /// The header byte: 0x00, or 0xFE for an OK that replaces an EOF (`deprecateEOF`).
    public var header: UInt8
    public var affectedRows: UInt64
    public var lastInsertID: UInt64
    /// `SERVER_STATUS_*` flags.
    public var statusFlags: UInt16
    public var warnings: UInt16
    /// Human-readable status text.
    public var info: String
    /// The raw session state change block (with `sessionTrack` and the state-changed flag).
    public var sessionStateChanges: [UInt8]?

    /// Creates an OK packet.
    public init(
        header: UInt8 = 0x00, affectedRows: UInt64 = 0, lastInsertID: UInt64 = 0, statusFlags: UInt16 = 0,
        warnings: UInt16 = 0, info: String = "", sessionStateChanges: [UInt8]? = nil
    ) {
        self.header = header
        self.affectedRows = affectedRows
        self.lastInsertID = lastInsertID
        self.statusFlags = statusFlags
        self.warnings = warnings
        self.info = info
        self.sessionStateChanges = sessionStateChanges
    }

    /// Parses an OK payload. `capabilities` are the ones both sides agreed on: with
    /// `sessionTrack` the info is length-encoded and may be followed by session state changes;
    /// without it the info is the rest of the packet.
    public init(decoding payload: ByteBuffer, capabilities: MySQLCapabilities = .protocol41) throws(MySQLWireError) {
        var payload = payload
        header = try payload.readMySQLInteger(as: UInt8.self, what: "the OK header")
        guard header == 0x00 || header == 0xFE else {
            throw MySQLWireError("OK packet starts with 0x\(String(header, radix: 16)), not 0x00 or 0xfe")
        }
        guard let affected = try payload.readMySQLLengthEncodedInteger(),
              let lastID = try payload.readMySQLLengthEncodedInteger()
        else { throw MySQLWireError("OK packet has a NULL row count or insert id") }
        affectedRows = affected
        lastInsertID = lastID
        statusFlags = try payload.readMySQLInteger(as: UInt16.self, what: "the status flags")
        warnings = try payload.readMySQLInteger(as: UInt16.self, what: "the warning count")
        sessionStateChanges = nil
        if capabilities.contains(.sessionTrack) {
            info = payload.readableBytes > 0 ? (try payload.readMySQLLengthEncodedString() ?? "") : ""
            if statusFlags & Self.sessionStateChangedFlag != 0, payload.readableBytes > 0 {
                sessionStateChanges = try payload.readMySQLLengthEncodedBytes()
            }
        } else {
            info = try String(mySQLUTF8: payload.readBytes(length: payload.readableBytes) ?? [], what: "the OK info")
        }
    }

    /// Writes the payload (no frame header), laid out for `capabilities` as in
    /// ``init(decoding:capabilities:)``.
    public func write(into buffer: inout ByteBuffer, capabilities: MySQLCapabilities = .protocol41) {
        buffer.writeInteger(header)
        buffer.writeMySQLLengthEncodedInteger(affectedRows)
        buffer.writeMySQLLengthEncodedInteger(lastInsertID)
        buffer.writeInteger(statusFlags, endianness: .little)
        buffer.writeInteger(warnings, endianness: .little)
        if capabilities.contains(.sessionTrack) {
            if !info.isEmpty || sessionStateChanges != nil {
                buffer.writeMySQLLengthEncodedString(info)
            }
            if statusFlags & Self.sessionStateChangedFlag != 0, let sessionStateChanges {
                buffer.writeMySQLLengthEncodedBytes(sessionStateChanges)
            }
        } else {
            buffer.writeString(info)
        }
    }
}
