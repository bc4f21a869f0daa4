import NIOCore

/// Builds one BSON document from doubles, strings and int32s.
public struct BSONWriter: Sendable {
    private var buffer = ByteBuffer()

    /// Starts an empty document.
    public init() {
        buffer.writeInteger(Int32(0), endianness: .little)
    }

    /// Appends a double element.
    public mutating func append(_ key: String, double value: Double) {
        writeHeader(.double, key)
        buffer.writeInteger(value.bitPattern, endianness: .little)
    }

    /// Appends a UTF-8 string element (NULs inside the value are allowed).
    public mutating func append(_ key: String, string value: String) {
        writeHeader(.string, key)
        buffer.writeInteger(Int32(truncatingIfNeeded: value.utf8.count + 1), endianness: .little)
        buffer.writeString(value)
        buffer.writeInteger(UInt8(0))
    }

    /// Appends an int32 element.
    public mutating func append(_ key: String, int32 value: Int32) {
        writeHeader(.int32, key)
        buffer.writeInteger(value, endianness: .little)
    }

    /// The finished document.
    public func finish() -> BSONDocument {
        var bytes = buffer
        bytes.writeInteger(UInt8(0))
        bytes.setInteger(Int32(truncatingIfNeeded: bytes.readableBytes), at: bytes.readerIndex, endianness: .little)
        return BSONDocument(unchecked: bytes)
    }

    /// Type byte and key; a key cannot hold NUL, so anything from its first NUL on is dropped.
    private mutating func writeHeader(_ type: BSONType, _ key: String) {
        buffer.writeInteger(type.rawValue)
        buffer.writeBytes(key.utf8.prefix { $0 != 0 })
        buffer.writeInteger(UInt8(0))
    }
}
