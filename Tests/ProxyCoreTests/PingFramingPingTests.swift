import NIOCore
import NIOEmbedded
import ProxyCore
import Testing

/// PingFramingHandler's pings: four zero bytes every interval while the channel is active, never
/// framed again; pings read are counted and dropped.
@Suite struct PingFramingPingTests {
    static func makeChannel(interval: TimeAmount?) throws -> (EmbeddedChannel, PingFramingHandler) {
        let sender = PingFramingHandler(pingInterval: interval)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(sender)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, sender)
    }

    @Test func sendsAPingEveryInterval() throws {
        let (channel, sender) = try Self.makeChannel(interval: .seconds(30))
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(try channel.drainOutboundBuffers().isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try channel.drainOutboundBuffers() == [PingBytes.ping])
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(try channel.drainOutboundBuffers() == [PingBytes.ping, PingBytes.ping])
        #expect(sender.pingsSent == 3)
        _ = try channel.finish()
    }

    @Test func dataIsFramedAndPingsAreNot() throws {
        let (channel, _) = try Self.makeChannel(interval: .seconds(30))
        try channel.writeOutbound(ByteBuffer(string: "hi"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(try channel.drainOutboundBuffers() == [PingBytes.frame("hi"), PingBytes.ping])
        _ = try channel.finish()
    }

    @Test(arguments: [TimeAmount.zero, nil])
    func noOrZeroIntervalSendsNothing(interval: TimeAmount?) throws {
        let (channel, sender) = try Self.makeChannel(interval: interval)
        channel.embeddedEventLoop.advanceTime(by: .hours(1))
        #expect(try channel.drainOutboundBuffers().isEmpty)
        #expect(sender.pingsSent == 0)
        _ = try channel.finish()
    }

    @Test func stopsWhenRemoved() throws {
        let (channel, sender) = try Self.makeChannel(interval: .seconds(1))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        try channel.pipeline.syncOperations.removeHandler(sender).wait()
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(try channel.drainOutboundBuffers() == [PingBytes.ping])
        #expect(sender.pingsSent == 1)
        _ = try channel.finish()
    }

    /// Both ways at once on one channel: the peer's pings are counted and dropped while this
    /// side's data is framed and its own pings go out.
    @Test func readsAndWritesAndPingsInterleave() throws {
        let (channel, handler) = try Self.makeChannel(interval: .seconds(5))
        try channel.writeInbound(ByteBuffer(bytes: PingBytes.ping + PingBytes.frame("ab") + [0, 0]))
        try channel.writeOutbound(ByteBuffer(string: "x"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        try channel.writeInbound(ByteBuffer(bytes: [0, 1, 0x63] + PingBytes.ping))
        #expect(try channel.drainInboundBytes() == Array("abc".utf8))
        #expect(try channel.drainOutboundBuffers() == [PingBytes.frame("x"), PingBytes.ping])
        #expect(handler.pingsReceived == 2)
        #expect(handler.pingsSent == 1)
        _ = try channel.finish()
    }
}
