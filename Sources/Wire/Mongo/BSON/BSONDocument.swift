import NIOCore

/// One BSON document whose outer length has been checked; its elements are read on demand by a
/// bounded ``BSONElementReader`` (nested documents are checked when they are read).
public struct BSONDocument: Sendable, Equatable {
    /// The document's bytes: int32 length, elements, terminating NUL.
    public let bytes: ByteBuffer

    /// The smallest document: a 4-byte length and the terminating NUL.
    public static let minimumLength = 5

    /// Wraps bytes already known to be one whole document.
    init(unchecked bytes: ByteBuffer) {
        self.bytes = bytes
    }

    /// Reads one document from the front of `buffer`: its int32 length must be at least 5 and
    /// within the readable bytes, and its last byte NUL. `what` names it in errors.
    public init(reading buffer: inout ByteBuffer, what: String = "BSON document") throws(MongoWireError) {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: Int32.self) else {
            throw .truncated("\(what): \(buffer.readableBytes) bytes cannot hold a document length")
        }
        guard length >= Self.minimumLength else {
            throw .malformed("\(what): length \(length) is below the 5-byte minimum")
        }
        guard Int(length) <= buffer.readableBytes else {
            throw .truncated("\(what): length \(length) runs past the \(buffer.readableBytes) bytes left")
        }
        guard buffer.getInteger(at: buffer.readerIndex + Int(length) - 1, as: UInt8.self) == 0,
              let slice = buffer.readSlice(length: Int(length))
        else { throw .malformed("\(what): does not end with a NUL byte") }
        self.bytes = slice
    }

    /// Checks that `bytes` holds exactly one document (outer length and terminator).
    public init(validating bytes: ByteBuffer) throws(MongoWireError) {
        var buffer = bytes
        self = try BSONDocument(reading: &buffer)
        guard buffer.readableBytes == 0 else {
            throw .malformed("BSON document: \(buffer.readableBytes) bytes after its end")
        }
    }

    /// A reader over this document's elements.
    public func makeElementReader() -> BSONElementReader {
        BSONElementReader(elements: bytes.getSlice(at: bytes.readerIndex + 4, length: bytes.readableBytes - 4) ?? ByteBuffer())
    }

    /// Every element, in order; throws on the first malformed one.
    public func elements() throws(MongoWireError) -> [BSONElement] {
        var reader = makeElementReader()
        var elements: [BSONElement] = []
        while let element = try reader.next() { elements.append(element) }
        return elements
    }

    /// The first element, nil for an empty document.
    public func firstElement() throws(MongoWireError) -> BSONElement? {
        var reader = makeElementReader()
        return try reader.next()
    }

    /// The first element whose key is `key`, reading (and checking) elements up to it.
    public func element(named key: String) throws(MongoWireError) -> BSONElement? {
        var reader = makeElementReader()
        while let element = try reader.next() {
            if element.key == key { return element }
        }
        return nil
    }
}
