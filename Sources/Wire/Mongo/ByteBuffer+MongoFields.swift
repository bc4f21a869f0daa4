import NIOCore

extension ByteBuffer {
    /// Reads a little-endian Int32, or throws ``MongoWireError/truncated(_:)`` naming `field`.
    mutating func readMongoInt32(_ field: @autoclosure () -> String) throws(MongoWireError) -> Int32 {
        guard let value = readInteger(endianness: .little, as: Int32.self) else { throw .truncated(field()) }
        return value
    }

    /// Reads a little-endian UInt32, or throws ``MongoWireError/truncated(_:)`` naming `field`.
    mutating func readMongoUInt32(_ field: @autoclosure () -> String) throws(MongoWireError) -> UInt32 {
        guard let value = readInteger(endianness: .little, as: UInt32.self) else { throw .truncated(field()) }
        return value
    }

    /// Reads one byte, or throws ``MongoWireError/truncated(_:)`` naming `field`.
    mutating func readMongoUInt8(_ field: @autoclosure () -> String) throws(MongoWireError) -> UInt8 {
        guard let value = readInteger(as: UInt8.self) else { throw .truncated(field()) }
        return value
    }

    /// Reads a NUL-terminated UTF-8 string (the NUL is consumed, not returned); throws when no
    /// NUL is left in the buffer or the bytes are not UTF-8.
    mutating func readMongoCString(_ field: @autoclosure () -> String) throws(MongoWireError) -> String {
        guard let nul = readableBytesView.firstIndex(of: 0) else {
            throw .truncated("\(field()): no terminating NUL")
        }
        let length = nul - readerIndex
        guard let bytes = readSlice(length: length) else { throw .truncated(field()) }
        moveReaderIndex(forwardBy: 1)
        guard let string = bytes.mongoValidatedUTF8() else { throw .malformed("\(field()): not UTF-8") }
        return string
    }

    /// The readable bytes as a String, or nil when they are not valid UTF-8.
    func mongoValidatedUTF8() -> String? {
        let view = readableBytesView
        let string = String(decoding: view, as: UTF8.self)
        return string.utf8.elementsEqual(view) ? string : nil
    }
}
