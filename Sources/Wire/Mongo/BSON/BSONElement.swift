import NIOCore

/// One element of a BSON document: its type, key and value bytes.
public struct BSONElement: Sendable, Equatable {
    /// The element's type.
    public var type: BSONType
    /// The element's key.
    public var key: String
    /// The value's bytes as they appear in the document (length prefixes included).
    public var value: ByteBuffer

    /// Creates an element.
    public init(type: BSONType, key: String, value: ByteBuffer) {
        self.type = type
        self.key = key
        self.value = value
    }

    /// The value of a double element.
    public var doubleValue: Double? {
        guard type == .double, let bits = value.getInteger(at: value.readerIndex, endianness: .little, as: UInt64.self)
        else { return nil }
        return Double(bitPattern: bits)
    }

    /// The value of an int32 element.
    public var int32Value: Int32? {
        guard type == .int32 else { return nil }
        return value.getInteger(at: value.readerIndex, endianness: .little, as: Int32.self)
    }

    /// The value of an int64 element.
    public var int64Value: Int64? {
        guard type == .int64 else { return nil }
        return value.getInteger(at: value.readerIndex, endianness: .little, as: Int64.self)
    }

    /// The value of a bool element (any non-zero byte is true).
    public var boolValue: Bool? {
        guard type == .bool, let byte = value.getInteger(at: value.readerIndex, as: UInt8.self) else { return nil }
        return byte != 0
    }

    /// The value of a string element, nil when it is not a string or not UTF-8.
    public var stringValue: String? {
        guard type == .string, value.readableBytes >= 5,
              let bytes = value.getSlice(at: value.readerIndex + 4, length: value.readableBytes - 5)
        else { return nil }
        return bytes.mongoValidatedUTF8()
    }

    /// The value of a document or array element (its own elements are checked when read).
    public var documentValue: BSONDocument? {
        guard type == .document || type == .array else { return nil }
        return BSONDocument(unchecked: value)
    }

    /// An int32, an int64, or a double with an integral value that fits in `Int`.
    public var integerValue: Int? {
        if let value = int32Value { return Int(value) }
        if let value = int64Value { return Int(exactly: value) }
        if let value = doubleValue, value.isFinite { return Int(exactly: value) }
        return nil
    }
}
