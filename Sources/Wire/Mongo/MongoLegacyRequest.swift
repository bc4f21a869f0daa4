import NIOCore

/// The collection name of a legacy CRUD request (OP_INSERT, OP_UPDATE, OP_DELETE, OP_GET_MORE),
/// and the shape of OP_KILL_CURSORS, which names none.
enum MongoLegacyRequest {
    /// The fullCollectionName after the leading int32 (flags or ZERO); nil for OP_KILL_CURSORS.
    static func fullCollectionName(of message: MongoMessage) throws(MongoWireError) -> String? {
        let name = "\(message.header.opCode)"
        var buffer = message.body
        _ = try buffer.readMongoInt32("\(name) first field")
        guard message.header.opCode != .killCursors else {
            let count = try buffer.readMongoInt32("OP_KILL_CURSORS numberOfCursorIDs")
            guard count >= 0, Int(count) * 8 == buffer.readableBytes else {
                throw .malformed("OP_KILL_CURSORS: \(count) cursor ids do not fill \(buffer.readableBytes) bytes")
            }
            return nil
        }
        return try buffer.readMongoCString("\(name) fullCollectionName")
    }
}
