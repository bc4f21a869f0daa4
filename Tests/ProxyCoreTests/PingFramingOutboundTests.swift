import NIOCore
import NIOEmbedded
import ProxyCore
import Testing

/// PingFramingHandler outbound: one frame per write, no frame for an empty write.
@Suite struct PingFramingOutboundTests {
    @Test func goldenFrame() throws {
        let channel = EmbeddedChannel(handler: PingFramingHandler())
        try channel.writeOutbound(ByteBuffer(string: "hello"))
        #expect(try channel.drainOutboundBuffers() == [[0, 0, 0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f]])
        #expect(try channel.finish().isClean)
    }

    @Test func eachWriteIsOneFrame() throws {
        let channel = EmbeddedChannel(handler: PingFramingHandler())
        try channel.writeOutbound(ByteBuffer(string: "a"))
        try channel.writeOutbound(ByteBuffer(string: "bc"))
        #expect(try channel.drainOutboundBuffers() == [PingBytes.frame("a"), PingBytes.frame("bc")])
        _ = try channel.finish()
    }

    @Test func emptyWriteSendsNoBytesButCompletes() throws {
        let channel = EmbeddedChannel(handler: PingFramingHandler())
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(ByteBuffer(), promise: promise)
        try promise.futureResult.wait()
        let buffers = try channel.drainOutboundBuffers()
        // The empty write travels down (it keeps write order) but carries no byte: no frame.
        #expect(buffers.map(\.count) == [0])
        _ = try channel.finish()
    }

    @Test(arguments: [16 * 1024 - 1, 16 * 1024])
    func payloadUpToCoalesceLimitIsOneBuffer(size: Int) throws {
        let channel = EmbeddedChannel(handler: PingFramingHandler())
        let payload = [UInt8](repeating: 0x5A, count: size)
        try channel.writeOutbound(ByteBuffer(bytes: payload))
        #expect(try channel.drainOutboundBuffers() == [PingBytes.frame(payload)])
        _ = try channel.finish()
    }

    @Test(arguments: [16 * 1024 + 1, 1024 * 1024 + 3])
    func largePayloadIsHeaderThenPayload(size: Int) throws {
        let channel = EmbeddedChannel(handler: PingFramingHandler())
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
        try channel.writeOutbound(ByteBuffer(bytes: payload))
        let buffers = try channel.drainOutboundBuffers()
        #expect(buffers.count == 2)
        #expect(buffers.first == Array(PingBytes.frame(payload).prefix(4)))
        #expect(buffers.last == payload)
        _ = try channel.finish()
    }

    @Test func writeOrderIsKept() throws {
        let channel = EmbeddedChannel(handler: PingFramingHandler())
        let big = [UInt8](repeating: 1, count: 20_000)
        try channel.writeOutbound(ByteBuffer(string: "a"))
        try channel.writeOutbound(ByteBuffer(bytes: big))
        try channel.writeOutbound(ByteBuffer())
        try channel.writeOutbound(ByteBuffer(string: "z"))
        let bytes = Array(try channel.drainOutboundBuffers().joined())
        #expect(bytes == PingBytes.frame("a") + PingBytes.frame(big) + PingBytes.frame("z"))
        _ = try channel.finish()
    }

    /// One handler's output fed to another's input gives back the writes, for sizes around the limits.
    @Test(arguments: [0, 1, 2, 3, 4, 5, 255, 256, 16 * 1024, 16 * 1024 + 1, 100_000])
    func roundTrip(size: Int) throws {
        let encoder = EmbeddedChannel(handler: PingFramingHandler())
        let decoder = EmbeddedChannel(handler: PingFramingHandler())
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try encoder.writeOutbound(ByteBuffer(bytes: payload))
        try encoder.writeOutbound(ByteBuffer(string: "end"))
        for buffer in try encoder.drainOutboundBuffers() {
            try decoder.writeInbound(ByteBuffer(bytes: buffer))
        }
        #expect(try decoder.drainInboundBytes() == payload + Array("end".utf8))
        _ = try encoder.finish()
        _ = try decoder.finish()
    }
}
