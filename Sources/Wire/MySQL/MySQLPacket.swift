import NIOCore

/// Limits of the MySQL packet framing.
public enum MySQLPacketLimits {
    /// The largest payload one frame can carry (16 MiB - 1). A frame of exactly this size means
    /// "the payload continues in the next frame".
    public static let maximumFramePayload = 0xFF_FFFF
}

/// One frame: 3-byte little-endian payload length, 1-byte sequence id, payload (< 16 MiB).
public struct MySQLPacket: Sendable, Hashable {
    /// The sequence id; it wraps from 255 to 0.
    public var sequenceID: UInt8
    /// The frame's payload.
    public var payload: ByteBuffer

    /// Creates a frame.
    public init(sequenceID: UInt8, payload: ByteBuffer) {
        self.sequenceID = sequenceID
        self.payload = payload
    }

    /// Whether this frame is full (0xFFFFFF bytes), so the logical payload continues in the next.
    public var isContinued: Bool { payload.readableBytes == MySQLPacketLimits.maximumFramePayload }

    /// Writes the header and payload. A payload over 0xFFFFFF bytes cannot be one frame; it is
    /// written as continuation frames by ``MySQLPacketWriter`` (with consecutive sequence ids).
    public func write(into buffer: inout ByteBuffer) {
        guard payload.readableBytes <= MySQLPacketLimits.maximumFramePayload else {
            _ = MySQLPacketWriter.write(payload: payload, sequenceID: sequenceID, into: &buffer)
            return
        }
        var payload = payload
        buffer.writeMySQLFrameHeader(length: payload.readableBytes, sequenceID: sequenceID)
        buffer.writeBuffer(&payload)
    }
}

extension ByteBuffer {
    /// Writes a frame header: `length` as 3 little-endian bytes, then `sequenceID`.
    mutating func writeMySQLFrameHeader(length: Int, sequenceID: UInt8) {
        writeInteger(UInt8(truncatingIfNeeded: length))
        writeInteger(UInt8(truncatingIfNeeded: length >> 8))
        writeInteger(UInt8(truncatingIfNeeded: length >> 16))
        writeInteger(sequenceID)
    }
}
