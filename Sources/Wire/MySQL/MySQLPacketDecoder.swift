import NIOCore

/// Decodes single frames (a payload of exactly 0xFFFFFF means "continued in the next frame";
/// frames are returned one by one, never reassembled). The length is checked as soon as its
/// three bytes are readable, before waiting for or copying the payload.
public struct MySQLPacketDecoder: Sendable {
    /// The largest accepted frame payload, at most ``MySQLPacketLimits/maximumFramePayload``.
    public let maximumPayload: Int

    /// Creates a decoder that rejects frames longer than `maximumPayload` (clamped to
    /// 0...0xFFFFFF).
    public init(maximumPayload: Int = MySQLPacketLimits.maximumFramePayload) {
        self.maximumPayload = min(max(0, maximumPayload), MySQLPacketLimits.maximumFramePayload)
    }

    /// Decodes one frame from the front of `buffer`, consuming it; nil when more bytes are needed
    /// (nothing is consumed then). The payload is a slice of `buffer`, not a copy. Throws for a
    /// length over the maximum.
    public mutating func decode(_ buffer: inout ByteBuffer) throws(MySQLWireError) -> MySQLPacket? {
        let start = buffer.readerIndex
        guard let low = buffer.getInteger(at: start, as: UInt8.self),
              let middle = buffer.getInteger(at: start + 1, as: UInt8.self),
              let high = buffer.getInteger(at: start + 2, as: UInt8.self)
        else { return nil }
        let length = Int(low) | Int(middle) << 8 | Int(high) << 16
        guard length <= maximumPayload else {
            throw MySQLWireError("packet of \(length) bytes is over the maximum of \(maximumPayload)")
        }
        guard let sequenceID = buffer.getInteger(at: start + 3, as: UInt8.self),
              let payload = buffer.getSlice(at: start + 4, length: length)
        else { return nil }
        buffer.moveReaderIndex(forwardBy: 4 + length)
        return MySQLPacket(sequenceID: sequenceID, payload: payload)
    }
}
