import NIOCore

/// An error answered to a client in its own protocol: `{ok: 0.0, errmsg, code, codeName}`.
public struct MongoErrorReply: Sendable, Equatable {
    /// What went wrong, for a person to read.
    public var message: String
    /// The MongoDB error code.
    public var code: Int32
    /// The MongoDB error code's name.
    public var codeName: String

    /// Creates an error reply.
    public init(message: String, code: Int32, codeName: String) {
        self.message = message
        self.code = code
        self.codeName = codeName
    }

    /// Code 13 "Unauthorized".
    public static func unauthorized(_ message: String) -> MongoErrorReply {
        MongoErrorReply(message: message, code: 13, codeName: "Unauthorized")
    }

    /// The reply document: `{ok: 0.0, errmsg, code, codeName}` with ok a BSON double.
    public var document: BSONDocument {
        var writer = BSONWriter()
        writer.append("ok", double: 0)
        writer.append("errmsg", string: message)
        writer.append("code", int32: code)
        writer.append("codeName", string: codeName)
        return writer.finish()
    }

    /// The bytes answering `request`: OP_REPLY (responseFlags 0, cursorID 0, one document) when
    /// the request was OP_QUERY, otherwise OP_MSG flagBits 0 with one kind-0 body.
    /// responseTo = request.requestID.
    public func encoded(replyingTo request: MongoMessageHeader, requestID: Int32) -> ByteBuffer {
        let message = request.opCode == .query
            ? MongoOpReply(documents: [document]).message(requestID: requestID, responseTo: request.requestID)
            : MongoOpMsg(body: document).message(requestID: requestID, responseTo: request.requestID)
        var buffer = ByteBuffer()
        message.write(into: &buffer)
        return buffer
    }
}
