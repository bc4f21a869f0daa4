import NIOCore

/// ERR_Packet: 0xFF, error code, `#` and a 5-character SQLSTATE (protocol 4.1), message.
public struct MySQLErrorPacket: Sendable, Hashable {
    /// The first byte of every ERR payload.
    public static let header: UInt8 = 0xFF

    /// The MySQL error number (see ``MySQLErrorCode``).
    public var code: UInt16
    /// The SQLSTATE, e.g. `28000`; empty when the packet carries no `#` marker (servers send that
    /// before protocol 4.1 is agreed).
    public var sqlState: String
    /// The human-readable message.
    public var message: String

    /// Creates an error packet.
    public init(code: UInt16, sqlState: String, message: String) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
    }

    /// Parses an ERR payload; the message must be UTF-8.
    public init(decoding payload: ByteBuffer) throws(MySQLWireError) {
        var payload = payload
        let header = try payload.readMySQLInteger(as: UInt8.self, what: "the ERR header")
        guard header == Self.header else {
            throw MySQLWireError("ERR packet starts with 0x\(String(header, radix: 16)), not 0xff")
        }
        code = try payload.readMySQLInteger(as: UInt16.self, what: "the error code")
        if payload.readableBytesView.first == UInt8(ascii: "#") {
            payload.moveReaderIndex(forwardBy: 1)
            let state = try payload.readMySQLBytes(length: 5, what: "the SQLSTATE")
            sqlState = try String(mySQLUTF8: state, what: "the SQLSTATE")
        } else {
            sqlState = ""
        }
        message = try String(mySQLUTF8: payload.readBytes(length: payload.readableBytes) ?? [], what: "the error message")
    }

    /// Writes the payload (no frame header): 0xFF, code, `#` and the state, message. A state that
    /// is not exactly 5 UTF-8 bytes is written as `HY000`; an empty one writes no marker.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(Self.header)
        buffer.writeInteger(code, endianness: .little)
        if !sqlState.isEmpty {
            buffer.writeInteger(UInt8(ascii: "#"))
            buffer.writeString(sqlState.utf8.count == 5 ? sqlState : "HY000")
        }
        buffer.writeString(message)
    }
}
