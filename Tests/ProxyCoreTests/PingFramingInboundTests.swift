import NIOCore
import NIOEmbedded
import ProxyCore
import Testing

/// PingFramingHandler inbound: framing removed, pings dropped, payload passed as it arrives.
@Suite struct PingFramingInboundTests {
    static func makeChannel() -> EmbeddedChannel {
        EmbeddedChannel(handler: PingFramingHandler())
    }

    static func write(_ bytes: [UInt8], to channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(bytes: bytes))
    }

    /// Pings and frames mixed; the payload includes bytes that look like a ping header.
    static let stream: [UInt8] = PingBytes.ping + PingBytes.frame("hello") + PingBytes.ping + PingBytes.ping
        + PingBytes.frame([0, 0, 0, 0, 1]) + PingBytes.frame("world!") + PingBytes.ping
    static let payload: [UInt8] = Array("hello".utf8) + [0, 0, 0, 0, 1] + Array("world!".utf8)

    @Test func goldenFrame() throws {
        let channel = Self.makeChannel()
        try Self.write([0, 0, 0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f], to: channel)
        #expect(try channel.drainInboundBytes() == Array("hello".utf8))
        #expect(try channel.finish().isClean)
    }

    @Test func pingAloneProducesNothing() throws {
        let channel = Self.makeChannel()
        try Self.write([0, 0, 0, 0], to: channel)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(try channel.finish().isClean)
    }

    @Test func wholeStreamInOneBuffer() throws {
        let channel = Self.makeChannel()
        try Self.write(Self.stream, to: channel)
        #expect(try channel.drainInboundBytes() == Self.payload)
        _ = try channel.finish()
    }

    @Test func splitAtEveryOffset() throws {
        for offset in 0...Self.stream.count {
            let channel = Self.makeChannel()
            try Self.write(Array(Self.stream[..<offset]), to: channel)
            var received = try channel.drainInboundBytes()
            try Self.write(Array(Self.stream[offset...]), to: channel)
            received += try channel.drainInboundBytes()
            #expect(received == Self.payload, "split at \(offset)")
            _ = try channel.finish()
        }
    }

    @Test func oneByteAtATime() throws {
        let channel = Self.makeChannel()
        var received: [UInt8] = []
        for byte in Self.stream {
            try Self.write([byte], to: channel)
            received += try channel.drainInboundBytes()
        }
        #expect(received == Self.payload)
        _ = try channel.finish()
    }

    @Test func manyPingsInOneBufferAreDropped() throws {
        let pings = Array([[UInt8]](repeating: PingBytes.ping, count: 1000).joined())
        let channel = Self.makeChannel()
        try Self.write(pings + PingBytes.frame("x") + pings, to: channel)
        #expect(try channel.drainInboundBytes() == Array("x".utf8))
        _ = try channel.finish()
    }

    @Test func payloadIsPassedBeforeTheFrameIsComplete() throws {
        let channel = Self.makeChannel()
        try Self.write([0, 0, 0, 10, 1, 2, 3], to: channel)
        #expect(try channel.drainInboundBytes() == [1, 2, 3])
        try Self.write([4, 5, 6, 7, 8, 9, 10] + PingBytes.frame([11]), to: channel)
        #expect(try channel.drainInboundBytes() == [4, 5, 6, 7, 8, 9, 10, 11])
        _ = try channel.finish()
    }

    /// No maximum frame size: a 4 GiB - 1 length is streamed, not buffered or rejected.
    @Test func largestLengthIsStreamed() throws {
        let channel = Self.makeChannel()
        let chunk = [UInt8](repeating: 0xAB, count: 64 * 1024)
        try Self.write([0xFF, 0xFF, 0xFF, 0xFF] + chunk, to: channel)
        #expect(try channel.drainInboundBytes() == chunk)
        // Zero bytes inside the frame are payload, not pings.
        try Self.write([0, 0, 0, 0], to: channel)
        #expect(try channel.drainInboundBytes() == [0, 0, 0, 0])
        _ = try channel.finish()
    }

    @Test func partialHeaderAtEndOfInputIsNotPayload() throws {
        let channel = Self.makeChannel()
        try Self.write([0, 0, 0], to: channel)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish()
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }
}
