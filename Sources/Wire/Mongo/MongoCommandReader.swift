import NIOCore

/// Reads what a proxy needs from requests and replies, without decoding whole messages.
public enum MongoCommandReader {
    /// OP_MSG: first key of the kind-0 body and its `$db` string; verifies the CRC-32C when checksumPresent.
    /// OP_QUERY: database = fullCollectionName up to the first '.', command = first key of the query
    /// (unwrapping `$query`/`query`); nil when the collection is not `$cmd` (a legacy find).
    /// OP_COMPRESSED: decompresses (noop, zlib, snappy; zstd -> unsupportedCompressor) bounded by `limits`,
    /// then reads the inner message.
    /// Legacy CRUD opcodes (insert/update/delete/getMore/killCursors): database from fullCollectionName
    /// (nil for killCursors, which has none), commandName nil. OP_REPLY: an empty summary.
    public static func summary(of message: MongoMessage, limits: MongoMessageLimits) throws(MongoWireError) -> MongoCommandSummary {
        try check(message, limits)
        switch message.header.opCode {
        case .msg:
            let msg = try MongoOpMsg(decoding: message)
            let first = try msg.body.firstElement()
            let database: String?
            if let element = try msg.body.element(named: "$db") {
                guard let name = element.stringValue else {
                    throw .malformed("OP_MSG body: `$db` is a \(element.type), not a UTF-8 string")
                }
                database = name
            } else {
                database = nil
            }
            return MongoCommandSummary(commandName: first?.key, database: database, moreToCome: msg.flags.contains(.moreToCome))
        case .query:
            let query = try MongoOpQuery(decoding: message)
            let command = query.isCommand ? try query.commandDocument().firstElement()?.key : nil
            return MongoCommandSummary(commandName: command, database: query.database)
        case .compressed:
            let inner = try MongoOpCompressed(decoding: message).decompressed(limits: limits)
            return try summary(of: inner, limits: limits)
        case .insert, .update, .delete, .getMore, .killCursors:
            let name = try MongoLegacyRequest.fullCollectionName(of: message)
            return MongoCommandSummary(database: name.map(MongoOpQuery.database(of:)))
        case .reply, .unknown:
            return MongoCommandSummary()
        }
    }

    /// From a server reply (OP_MSG body or OP_REPLY first document, decompressing OP_COMPRESSED):
    /// the `maxMessageSizeBytes` value if present (int32/int64/double). Other opcodes give nil.
    public static func maxMessageSize(inReply message: MongoMessage, limits: MongoMessageLimits) throws(MongoWireError) -> Int? {
        try check(message, limits)
        let document: BSONDocument?
        switch message.header.opCode {
        case .msg:
            document = try MongoOpMsg(decoding: message).body
        case .reply:
            document = try MongoOpReply(decoding: message).documents.first
        case .compressed:
            let inner = try MongoOpCompressed(decoding: message).decompressed(limits: limits)
            return try maxMessageSize(inReply: inner, limits: limits)
        default:
            document = nil
        }
        guard let element = try document?.element(named: "maxMessageSizeBytes") else { return nil }
        guard let value = element.integerValue else {
            throw .malformed("reply: maxMessageSizeBytes is a \(element.type) that is not a whole number")
        }
        return value
    }

    /// The header within limits and its length matching the body.
    private static func check(_ message: MongoMessage, _ limits: MongoMessageLimits) throws(MongoWireError) {
        try limits.validate(message.header)
        guard Int(message.header.messageLength) == MongoMessageHeader.size + message.body.readableBytes else {
            throw .malformed("\(message.header.opCode): header length \(message.header.messageLength) but \(MongoMessageHeader.size + message.body.readableBytes) bytes")
        }
    }
}
