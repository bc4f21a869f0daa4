import NIOCore

/// An OP_REPLY (opcode 1): the server's answer to OP_QUERY and OP_GET_MORE.
public struct MongoOpReply: Sendable, Equatable {
    /// Response flags (cursorNotFound, queryFailure, awaitCapable, ...).
    public var responseFlags: Int32
    /// The cursor to continue with, 0 when none.
    public var cursorID: Int64
    /// Where in the cursor this reply starts.
    public var startingFrom: Int32
    /// The documents, `numberReturned` of them.
    public var documents: [BSONDocument]

    /// Creates a reply.
    public init(responseFlags: Int32 = 0, cursorID: Int64 = 0, startingFrom: Int32 = 0, documents: [BSONDocument]) {
        self.responseFlags = responseFlags
        self.cursorID = cursorID
        self.startingFrom = startingFrom
        self.documents = documents
    }

    /// Decodes an OP_REPLY; its documents must match numberReturned and fill the body exactly.
    public init(decoding message: MongoMessage) throws(MongoWireError) {
        guard message.header.opCode == .reply else {
            throw .malformed("OP_REPLY: the header's opcode is \(message.header.opCode)")
        }
        var buffer = message.body
        responseFlags = try buffer.readMongoInt32("OP_REPLY responseFlags")
        guard let cursor = buffer.readInteger(endianness: .little, as: Int64.self) else {
            throw .truncated("OP_REPLY cursorID")
        }
        cursorID = cursor
        startingFrom = try buffer.readMongoInt32("OP_REPLY startingFrom")
        let numberReturned = try buffer.readMongoInt32("OP_REPLY numberReturned")
        guard numberReturned >= 0, Int(numberReturned) * BSONDocument.minimumLength <= buffer.readableBytes else {
            throw .malformed("OP_REPLY: numberReturned \(numberReturned) does not fit in \(buffer.readableBytes) bytes")
        }
        documents = []
        for index in 0..<Int(numberReturned) {
            documents.append(try BSONDocument(reading: &buffer, what: "OP_REPLY document \(index)"))
        }
        guard buffer.readableBytes == 0 else {
            throw .malformed("OP_REPLY: \(buffer.readableBytes) bytes after its \(numberReturned) documents")
        }
    }

    /// The whole message with these IDs.
    public func message(requestID: Int32, responseTo: Int32) -> MongoMessage {
        var body = ByteBuffer()
        body.writeInteger(responseFlags, endianness: .little)
        body.writeInteger(cursorID, endianness: .little)
        body.writeInteger(startingFrom, endianness: .little)
        body.writeInteger(Int32(truncatingIfNeeded: documents.count), endianness: .little)
        for document in documents { body.writeImmutableBuffer(document.bytes) }
        let header = MongoMessageHeader(
            messageLength: Int32(truncatingIfNeeded: MongoMessageHeader.size + body.readableBytes),
            requestID: requestID, responseTo: responseTo, opCode: .reply)
        return MongoMessage(header: header, body: body)
    }
}
