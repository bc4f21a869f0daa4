/// The compressorId byte of OP_COMPRESSED.
public enum MongoCompressor: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// The payload is the uncompressed bytes.
    case noop = 0
    /// Snappy raw format.
    case snappy = 1
    /// zlib (RFC 1950) stream.
    case zlib = 2
    /// Zstandard; recognized but not decompressed by this codec.
    case zstd = 3

    public var description: String {
        switch self {
        case .noop: return "noop"
        case .snappy: return "snappy"
        case .zlib: return "zlib"
        case .zstd: return "zstd"
        }
    }
}
