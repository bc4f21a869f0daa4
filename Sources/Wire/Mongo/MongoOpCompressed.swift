import NIOCore

/// An OP_COMPRESSED (opcode 2012): the opcode and size of the message it wraps, a compressor id
/// and the compressed body of that message.
public struct MongoOpCompressed: Sendable, Equatable {
    /// The wrapped message's opcode.
    public var originalOpCode: MongoOpCode
    /// The wrapped message's body length (its header not included).
    public var uncompressedSize: Int32
    /// The compressorId byte (0 noop, 1 snappy, 2 zlib, 3 zstd).
    public var compressorID: UInt8
    /// The compressed body.
    public var compressedMessage: ByteBuffer
    /// The outer header's requestID, which the wrapped message keeps.
    public var requestID: Int32
    /// The outer header's responseTo, which the wrapped message keeps.
    public var responseTo: Int32

    /// Decodes the OP_COMPRESSED fields without decompressing.
    public init(decoding message: MongoMessage) throws(MongoWireError) {
        guard message.header.opCode == .compressed else {
            throw .malformed("OP_COMPRESSED: the header's opcode is \(message.header.opCode)")
        }
        var buffer = message.body
        originalOpCode = MongoOpCode(rawValue: try buffer.readMongoInt32("OP_COMPRESSED originalOpcode"))
        uncompressedSize = try buffer.readMongoInt32("OP_COMPRESSED uncompressedSize")
        compressorID = try buffer.readMongoUInt8("OP_COMPRESSED compressorId")
        compressedMessage = buffer
        requestID = message.header.requestID
        responseTo = message.header.responseTo
    }

    /// The wrapped message: header rebuilt (length = uncompressedSize + 16, original opcode,
    /// same IDs) and body decompressed. The declared size is checked against `limits` before
    /// anything is allocated, and the output is cut off one byte past it.
    public func decompressed(limits: MongoMessageLimits) throws(MongoWireError) -> MongoMessage {
        guard let compressor = MongoCompressor(rawValue: compressorID), compressor != .zstd else {
            throw .unsupportedCompressor(compressorID)
        }
        guard uncompressedSize >= 0 else {
            throw .malformed("OP_COMPRESSED: negative uncompressedSize \(uncompressedSize)")
        }
        let length = Int(uncompressedSize) + MongoMessageHeader.size
        guard length <= limits.maximumLength, let length32 = Int32(exactly: length) else {
            throw .uncompressedSizeTooLarge(declared: uncompressedSize, limit: limits.maximumLength)
        }
        guard originalOpCode != .compressed else {
            throw .malformed("OP_COMPRESSED: it wraps another OP_COMPRESSED")
        }
        let header = MongoMessageHeader(messageLength: length32, requestID: requestID, responseTo: responseTo, opCode: originalOpCode)
        try limits.validate(header)
        let expected = Int(uncompressedSize)
        let body: ByteBuffer
        switch compressor {
        case .noop:
            guard compressedMessage.readableBytes == expected else {
                throw .decompressedSizeMismatch(expected: expected, actual: compressedMessage.readableBytes)
            }
            body = compressedMessage
        case .zlib:
            body = try ZlibInflater.inflate(compressedMessage, expectedSize: expected)
        case .snappy:
            body = try SnappyDecompressor.decompress(compressedMessage, expectedSize: expected)
        case .zstd:
            throw .unsupportedCompressor(compressorID)
        }
        return MongoMessage(header: header, body: body)
    }
}
