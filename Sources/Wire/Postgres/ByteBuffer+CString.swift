import NIOCore

extension ByteBuffer {
    /// Reads a NUL-terminated UTF-8 string, consuming the terminator; nil when no NUL is readable.
    /// Throws when the bytes before the NUL are not valid UTF-8.
    mutating func readPostgresCString(what: @autoclosure () -> String) throws(PostgresWireError) -> String? {
        guard let end = readableBytesView.firstIndex(of: 0) else { return nil }
        let length = end - readableBytesView.startIndex
        guard let bytes = readBytes(length: length) else { return nil }
        moveReaderIndex(forwardBy: 1)
        guard let string = String(validatingUTF8Bytes: bytes) else {
            throw PostgresWireError("\(what()) is not valid UTF-8")
        }
        return string
    }

    /// Writes `string` followed by a NUL byte.
    mutating func writePostgresCString(_ string: String) {
        writeString(string)
        writeInteger(UInt8(0))
    }
}

extension String {
    /// Decodes `bytes` as UTF-8, or nil when they are not valid UTF-8.
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var scalars = String.UnicodeScalarView()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): scalars.append(scalar)
            case .emptyInput: break loop
            case .error: return nil
            }
        }
        self = String(scalars)
    }
}
