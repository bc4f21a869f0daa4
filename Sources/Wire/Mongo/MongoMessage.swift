import NIOCore

/// One whole message: the header and the bytes after it.
public struct MongoMessage: Sendable, Equatable {
    /// The message's header; its messageLength is 16 + body length.
    public var header: MongoMessageHeader
    /// The bytes after the header.
    public var body: ByteBuffer

    /// Creates a message from a header and the bytes after it.
    public init(header: MongoMessageHeader, body: ByteBuffer) {
        self.header = header
        self.body = body
    }

    /// Writes the header and the body.
    public func write(into buffer: inout ByteBuffer) {
        header.write(into: &buffer)
        buffer.writeImmutableBuffer(body)
    }
}
