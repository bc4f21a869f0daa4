import NIOCore

/// Length-encoded integers and strings (0xFB NULL, 0xFC 2-byte, 0xFD 3-byte, 0xFE 8-byte),
/// bounded by the buffer. A read that throws consumes nothing.
extension ByteBuffer {
    /// Reads a length-encoded integer; nil for the NULL marker 0xFB. Throws when the buffer is
    /// empty, the prefix is 0xFF, or the integer is cut short.
    public mutating func readMySQLLengthEncodedInteger() throws(MySQLWireError) -> UInt64? {
        guard let prefix = getInteger(at: readerIndex, as: UInt8.self) else {
            throw MySQLWireError("a length-encoded integer is missing")
        }
        let width: Int
        switch prefix {
        case 0..<0xFB:
            moveReaderIndex(forwardBy: 1)
            return UInt64(prefix)
        case 0xFB:
            moveReaderIndex(forwardBy: 1)
            return nil
        case 0xFC: width = 2
        case 0xFD: width = 3
        case 0xFE: width = 8
        default: throw MySQLWireError("0xFF is not a valid length-encoded integer prefix")
        }
        guard let bytes = getBytes(at: readerIndex + 1, length: width) else {
            throw MySQLWireError("a length-encoded integer needs \(width) bytes after its prefix; \(readableBytes - 1) are left")
        }
        moveReaderIndex(forwardBy: 1 + width)
        return bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// Writes `value` in the shortest length-encoded form.
    public mutating func writeMySQLLengthEncodedInteger(_ value: UInt64) {
        let width: Int
        switch value {
        case 0..<0xFB:
            writeInteger(UInt8(value))
            return
        case 0xFB...0xFFFF:
            writeInteger(UInt8(0xFC))
            width = 2
        case 0x1_0000...0xFF_FFFF:
            writeInteger(UInt8(0xFD))
            width = 3
        default:
            writeInteger(UInt8(0xFE))
            width = 8
        }
        for index in 0..<width {
            writeInteger(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))))
        }
    }

    /// Reads a length-encoded byte string; nil for NULL. Throws when the length says more bytes
    /// than the buffer holds.
    public mutating func readMySQLLengthEncodedBytes() throws(MySQLWireError) -> [UInt8]? {
        var copy = self
        guard let length = try copy.readMySQLLengthEncodedInteger() else {
            self = copy
            return nil
        }
        guard length <= UInt64(copy.readableBytes), let bytes = copy.readBytes(length: Int(length)) else {
            throw MySQLWireError("a length-encoded string claims \(length) bytes; \(copy.readableBytes) are left")
        }
        self = copy
        return bytes
    }

    /// Writes `bytes` with a length-encoded length prefix.
    public mutating func writeMySQLLengthEncodedBytes(_ bytes: some Collection<UInt8>) {
        writeMySQLLengthEncodedInteger(UInt64(bytes.count))
        writeBytes(bytes)
    }

    /// Reads a length-encoded UTF-8 string; nil for NULL. Throws when it is cut short or not
    /// valid UTF-8.
    public mutating func readMySQLLengthEncodedString() throws(MySQLWireError) -> String? {
        var copy = self
        guard let bytes = try copy.readMySQLLengthEncodedBytes() else {
            self = copy
            return nil
        }
        let string = try String(mySQLUTF8: bytes, what: "a length-encoded string")
        self = copy
        return string
    }

    /// Writes `string` as UTF-8 with a length-encoded length prefix.
    public mutating func writeMySQLLengthEncodedString(_ string: String) {
        writeMySQLLengthEncodedBytes(Array(string.utf8))
    }
}
