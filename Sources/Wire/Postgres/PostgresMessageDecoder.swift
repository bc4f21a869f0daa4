import NIOCore

/// Frames regular messages: a type byte, an Int32 length counting itself, then the body.
/// The length is checked as soon as it is readable, before waiting for or copying the body.
public struct PostgresMessageDecoder: Sendable {
    /// The default largest accepted length field: 1 GiB, PostgreSQL's own limit.
    public static let defaultMaximumLength = 1 << 30

    /// The largest accepted length field (which counts its own 4 bytes).
    public var maximumLength: Int

    /// Creates a decoder that rejects length fields above `maximumLength`.
    public init(maximumLength: Int = defaultMaximumLength) {
        self.maximumLength = maximumLength
    }

    /// Decodes one message from the front of `buffer`, consuming it; nil when more bytes are
    /// needed (nothing is consumed then). Throws for a length field below 4 or above the maximum.
    public mutating func decode(_ buffer: inout ByteBuffer) throws(PostgresWireError) -> PostgresMessage? {
        let start = buffer.readerIndex
        guard let type = buffer.getInteger(at: start, as: UInt8.self),
              let length = buffer.getInteger(at: start + 1, as: Int32.self)
        else { return nil }
        guard length >= 4 else {
            throw PostgresWireError("message '\(Self.printable(type))' has length \(length); the minimum is 4")
        }
        guard Int(length) <= maximumLength else {
            throw PostgresWireError(
                "message '\(Self.printable(type))' has length \(length), over the maximum of \(maximumLength)"
            )
        }
        guard let body = buffer.getSlice(at: start + 5, length: Int(length) - 4) else { return nil }
        buffer.moveReaderIndex(forwardBy: 1 + Int(length))
        return PostgresMessage(type: type, body: body)
    }

    /// The type byte as a character when printable ASCII, else as hex.
    static func printable(_ type: UInt8) -> String {
        if type >= 0x21, type < 0x7F { return String(UnicodeScalar(type)) }
        let hex = String(type, radix: 16)
        return "0x" + (hex.count < 2 ? "0" + hex : hex)
    }
}
