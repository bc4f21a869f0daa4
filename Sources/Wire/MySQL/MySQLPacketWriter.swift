import NIOCore

/// Writes a logical payload of any size as frames (continuation frames, and the empty
/// terminating frame when the size is a multiple of 0xFFFFFF), with consecutive sequence ids
/// starting at `sequenceID`; returns the next sequence id.
public enum MySQLPacketWriter {
    /// Writes `payload` as one or more frames into `buffer`; returns the sequence id after the
    /// last frame written (wrapping 255 -> 0).
    public static func write(payload: ByteBuffer, sequenceID: UInt8, into buffer: inout ByteBuffer) -> UInt8 {
        var remaining = payload
        var sequenceID = sequenceID
        while true {
            let length = min(remaining.readableBytes, MySQLPacketLimits.maximumFramePayload)
            buffer.writeMySQLFrameHeader(length: length, sequenceID: sequenceID)
            if var chunk = remaining.readSlice(length: length) {
                buffer.writeBuffer(&chunk)
            }
            sequenceID &+= 1
            if length < MySQLPacketLimits.maximumFramePayload { return sequenceID }
        }
    }
}
