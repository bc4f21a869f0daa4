import NIOCore
import NIOEmbedded

/// Byte helpers for the ping framing tests.
enum PingBytes {
    /// A ping: a zero length and nothing after it.
    static let ping: [UInt8] = [0, 0, 0, 0]

    /// One frame: 4-byte big-endian length, then the payload.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + payload
    }

    static func frame(_ text: String) -> [UInt8] { frame(Array(text.utf8)) }
}

extension EmbeddedChannel {
    /// Every inbound ByteBuffer read so far, concatenated.
    func drainInboundBytes() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try readInbound(as: ByteBuffer.self) {
            bytes += buffer.readableBytesView
        }
        return bytes
    }

    /// Every outbound ByteBuffer written so far, one array per buffer.
    func drainOutboundBuffers() throws -> [[UInt8]] {
        var buffers: [[UInt8]] = []
        while let buffer = try readOutbound(as: ByteBuffer.self) {
            buffers.append(Array(buffer.readableBytesView))
        }
        return buffers
    }
}
