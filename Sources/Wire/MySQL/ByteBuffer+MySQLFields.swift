import NIOCore

/// Fixed-size and NUL-terminated fields, throwing instead of returning nil so decoders read
/// top to bottom.
extension ByteBuffer {
    /// Reads a little-endian integer of type `T`, or throws naming `what`.
    mutating func readMySQLInteger<T: FixedWidthInteger>(
        as type: T.Type, what: @autoclosure () -> String
    ) throws(MySQLWireError) -> T {
        guard let value = readInteger(endianness: .little, as: T.self) else {
            throw MySQLWireError("packet ends before \(what()) (\(MemoryLayout<T>.size) bytes)")
        }
        return value
    }

    /// Reads exactly `length` bytes, or throws naming `what`.
    mutating func readMySQLBytes(length: Int, what: @autoclosure () -> String) throws(MySQLWireError) -> [UInt8] {
        guard let bytes = readBytes(length: length) else {
            throw MySQLWireError("packet ends before \(what()) (\(length) bytes; \(readableBytes) left)")
        }
        return bytes
    }

    /// Reads bytes up to a NUL, consuming the NUL; throws when there is no NUL.
    mutating func readMySQLNullTerminatedBytes(what: @autoclosure () -> String) throws(MySQLWireError) -> [UInt8] {
        guard let end = readableBytesView.firstIndex(of: 0),
              let bytes = readBytes(length: end - readableBytesView.startIndex)
        else { throw MySQLWireError("\(what()) has no terminating NUL") }
        moveReaderIndex(forwardBy: 1)
        return bytes
    }

    /// Reads a NUL-terminated UTF-8 string, consuming the NUL; throws when there is no NUL or
    /// the bytes are not UTF-8.
    mutating func readMySQLNullTerminatedString(what: @autoclosure () -> String) throws(MySQLWireError) -> String {
        let bytes = try readMySQLNullTerminatedBytes(what: what())
        return try String(mySQLUTF8: bytes, what: what())
    }

    /// Writes `string` as UTF-8 followed by a NUL.
    mutating func writeMySQLNullTerminatedString(_ string: String) {
        writeString(string)
        writeInteger(UInt8(0))
    }

    /// Writes `count` zero bytes.
    mutating func writeMySQLZeros(_ count: Int) {
        writeRepeatingByte(0, count: count)
    }
}

extension String {
    /// Decodes `bytes` as UTF-8, or throws naming `what`.
    init(mySQLUTF8 bytes: [UInt8], what: @autoclosure () -> String) throws(MySQLWireError) {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var scalars = String.UnicodeScalarView()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): scalars.append(scalar)
            case .emptyInput:
                self = String(scalars)
                return
            case .error: throw MySQLWireError("\(what()) is not valid UTF-8")
            }
        }
    }
}
