/// A malformed or unacceptable MongoDB wire message, with a description a person can act on.
public enum MongoWireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A header's messageLength is below the 16-byte header (negative lengths included).
    case messageTooShort(length: Int32)
    /// A header's messageLength is over the configured maximum.
    case messageTooLong(length: Int32, limit: Int)
    /// A header names an opcode this codec does not know.
    case unknownOpCode(Int32)
    /// A message or document ends before a field it announces; the string says which.
    case truncated(String)
    /// A field holds a value the protocol does not allow; the string says which.
    case malformed(String)
    /// An OP_MSG's CRC-32C does not match its bytes.
    case checksumMismatch(expected: UInt32, actual: UInt32)
    /// An OP_COMPRESSED names a compressor this codec cannot decompress (3 is zstd).
    case unsupportedCompressor(UInt8)
    /// An OP_COMPRESSED declares an uncompressed size whose message would exceed the limit.
    case uncompressedSizeTooLarge(declared: Int32, limit: Int)
    /// Decompression produced a different number of bytes than declared (`actual` is
    /// `expected + 1` when the payload would have produced more than declared).
    case decompressedSizeMismatch(expected: Int, actual: Int)
    /// The compressed payload is corrupt; the string says what the decompressor reported.
    case decompressionFailed(String)

    public var description: String {
        switch self {
        case .messageTooShort(let length):
            return "MongoDB protocol error: message length \(length) is shorter than the 16-byte header; "
                + "the peer is not speaking the MongoDB wire protocol or the stream is out of step"
        case .messageTooLong(let length, let limit):
            return "MongoDB protocol error: message length \(length) is over the limit of \(limit) bytes; "
                + "raise the maximum message size if the server allows larger messages (maxMessageSizeBytes)"
        case .unknownOpCode(let code):
            return "MongoDB protocol error: unknown opcode \(code); only OP_MSG, OP_COMPRESSED, OP_QUERY, "
                + "OP_REPLY and the legacy CRUD opcodes are understood"
        case .truncated(let what):
            return "MongoDB protocol error: truncated \(what)"
        case .malformed(let what):
            return "MongoDB protocol error: malformed \(what)"
        case .checksumMismatch(let expected, let actual):
            return "MongoDB protocol error: OP_MSG checksum mismatch (message carries 0x\(Self.hex(expected)), "
                + "bytes hash to 0x\(Self.hex(actual))); the message was corrupted in transit"
        case .unsupportedCompressor(let id):
            let name = id == 3 ? " (zstd)" : ""
            return "MongoDB protocol error: unsupported compressor id \(id)\(name); "
                + "configure the client with compressors=zlib or snappy, or none"
        case .uncompressedSizeTooLarge(let declared, let limit):
            return "MongoDB protocol error: OP_COMPRESSED declares \(declared) uncompressed bytes, "
                + "which with its header is over the limit of \(limit) bytes"
        case .decompressedSizeMismatch(let expected, let actual):
            let produced = actual > expected ? "more than \(expected)" : "\(actual)"
            return "MongoDB protocol error: OP_COMPRESSED payload decompresses to \(produced) bytes "
                + "but its header declares \(expected)"
        case .decompressionFailed(let reason):
            return "MongoDB protocol error: OP_COMPRESSED payload cannot be decompressed: \(reason)"
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
