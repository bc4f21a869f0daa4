import NIOCore

/// An OP_QUERY (opcode 2004): legacy, still used for the first hello/isMaster of many drivers.
public struct MongoOpQuery: Sendable, Equatable {
    /// The query flags (tailable, secondaryOk, ...).
    public var flags: Int32
    /// `database.collection`; commands go to `database.$cmd`.
    public var fullCollectionName: String
    /// Documents to skip.
    public var numberToSkip: Int32
    /// Documents to return (-1 for commands).
    public var numberToReturn: Int32
    /// The query or command document.
    public var query: BSONDocument
    /// The optional projection.
    public var returnFieldsSelector: BSONDocument?

    /// Decodes an OP_QUERY body; bytes after the optional selector are malformed.
    public init(decoding message: MongoMessage) throws(MongoWireError) {
        guard message.header.opCode == .query else {
            throw .malformed("OP_QUERY: the header's opcode is \(message.header.opCode)")
        }
        var buffer = message.body
        flags = try buffer.readMongoInt32("OP_QUERY flags")
        fullCollectionName = try buffer.readMongoCString("OP_QUERY fullCollectionName")
        numberToSkip = try buffer.readMongoInt32("OP_QUERY numberToSkip")
        numberToReturn = try buffer.readMongoInt32("OP_QUERY numberToReturn")
        query = try BSONDocument(reading: &buffer, what: "OP_QUERY query")
        returnFieldsSelector = buffer.readableBytes > 0
            ? try BSONDocument(reading: &buffer, what: "OP_QUERY returnFieldsSelector") : nil
        guard buffer.readableBytes == 0 else {
            throw .malformed("OP_QUERY: \(buffer.readableBytes) bytes after its documents")
        }
    }

    /// The database part of ``fullCollectionName`` (up to the first '.').
    public var database: String { Self.database(of: fullCollectionName) }

    /// Whether this is a command (the collection is `$cmd`) rather than a legacy find.
    public var isCommand: Bool { fullCollectionName.hasSuffix(".$cmd") }

    /// The command document: ``query``, or what its `$query` / `query` key wraps.
    public func commandDocument() throws(MongoWireError) -> BSONDocument {
        guard let first = try query.firstElement(), first.key == "$query" || first.key == "query",
              let wrapped = first.documentValue, first.type == .document
        else { return query }
        return wrapped
    }

    /// The name up to the first '.', or the whole name when it has none.
    static func database(of fullCollectionName: String) -> String {
        String(fullCollectionName.prefix { $0 != "." })
    }
}
