import NIOCore

/// Reads the ping framing used inside `-ping` ALPN protocols: every frame is a 4-byte big-endian
/// length followed by that many bytes; a zero length is a ping and carries nothing.
///
/// Payload is handed out as it arrives, never buffered to a whole frame, so a frame of any size
/// costs no memory beyond the bytes already read.
public struct PingFrameParser: Sendable {
    private var remainingInFrame: Int = 0

    /// How many ping frames were read and dropped.
    public private(set) var pingsReceived: Int = 0

    public init() {}

    /// Whether the parser is in the middle of a frame's payload.
    public var isInsideFrame: Bool { remainingInFrame > 0 }

    /// Consumes frame headers and pings from `buffer` and returns the next run of payload bytes,
    /// or nil when `buffer` holds no payload byte yet.
    public mutating func nextPayload(from buffer: inout ByteBuffer) -> ByteBuffer? {
        while remainingInFrame == 0 {
            guard let length = buffer.readInteger(endianness: .big, as: UInt32.self) else { return nil }
            if length == 0 {
                pingsReceived += 1
            } else {
                remainingInFrame = Int(length)
            }
        }
        let count = min(remainingInFrame, buffer.readableBytes)
        guard count > 0, let payload = buffer.readSlice(length: count) else { return nil }
        remainingInFrame -= count
        return payload
    }
}
