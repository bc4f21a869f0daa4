import NIOCore

/// An OP_MSG kind-1 section: an identifier (e.g. `documents`) and a run of BSON documents.
public struct MongoDocumentSequence: Sendable, Equatable {
    /// What the documents are for: `documents`, `updates`, `deletes`, ...
    public var identifier: String
    /// The documents, each checked to fit the section.
    public var documents: [BSONDocument]

    /// Creates a sequence.
    public init(identifier: String, documents: [BSONDocument]) {
        self.identifier = identifier
        self.documents = documents
    }

    /// Reads a section after its kind byte: int32 size (counting itself) bounded by the bytes
    /// left, identifier, then documents that must fill the size exactly.
    init(reading buffer: inout ByteBuffer) throws(MongoWireError) {
        let size = try buffer.readMongoInt32("OP_MSG document sequence size")
        guard size >= 5 else { throw .malformed("OP_MSG document sequence: size \(size) is below 5") }
        guard var section = buffer.readSlice(length: Int(size) - 4) else {
            throw .truncated("OP_MSG document sequence: size \(size) runs past the \(buffer.readableBytes + 4) bytes left in the message")
        }
        identifier = try section.readMongoCString("OP_MSG document sequence identifier")
        documents = []
        while section.readableBytes > 0 {
            documents.append(try BSONDocument(reading: &section, what: "OP_MSG document sequence '\(identifier)' document"))
        }
    }

    /// Writes the section, kind byte included.
    func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(1))
        let sizeIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0), endianness: .little)
        buffer.writeBytes(identifier.utf8.prefix { $0 != 0 })
        buffer.writeInteger(UInt8(0))
        for document in documents { buffer.writeImmutableBuffer(document.bytes) }
        buffer.setInteger(Int32(truncatingIfNeeded: buffer.writerIndex - sizeIndex), at: sizeIndex, endianness: .little)
    }
}
