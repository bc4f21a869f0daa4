import NIOCore

/// Bounded streaming decoder: validates each header as soon as its 16 bytes are readable, before
/// waiting for the body, then returns the whole message (the body is a slice, not a copy).
/// `limits` is a `var` so a handler can raise the maximum after the server's hello says
/// maxMessageSizeBytes.
public struct MongoMessageDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = MongoMessage

    /// The bounds every header is checked against.
    public var limits: MongoMessageLimits

    /// Creates a decoder with `limits`.
    public init(limits: MongoMessageLimits = .init()) {
        self.limits = limits
    }

    /// Decodes one message from the front of `buffer`, consuming it; nil (consuming nothing) when
    /// more bytes are needed. Throws for a header outside the limits.
    public mutating func decode(buffer: inout ByteBuffer) throws(MongoWireError) -> MongoMessage? {
        guard let header = MongoMessageHeader.peek(in: buffer) else { return nil }
        try limits.validate(header)
        let bodyLength = Int(header.messageLength) - MongoMessageHeader.size
        guard let body = buffer.getSlice(at: buffer.readerIndex + MongoMessageHeader.size, length: bodyLength) else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: Int(header.messageLength))
        return MongoMessage(header: header, body: body)
    }

    /// Like ``decode(buffer:)``; at end of stream, a partial message left over throws
    /// ``MongoWireError/truncated(_:)``.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws(MongoWireError) -> MongoMessage? {
        if let message = try decode(buffer: &buffer) { return message }
        if seenEOF && buffer.readableBytes > 0 {
            throw .truncated("message: the connection closed \(buffer.readableBytes) bytes into a message")
        }
        return nil
    }
}
