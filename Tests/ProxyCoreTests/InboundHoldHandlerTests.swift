import NIOCore
import NIOEmbedded
import ProxyCore
import Testing

/// InboundHoldHandler: holds bytes and end-of-input until the splice, then replays them in order.
@Suite struct InboundHoldHandlerTests {
    @Test func onActiveRunsOnceWhenTheChannelBecomesActive() throws {
        var calls = 0
        let channel = EmbeddedChannel(handler: InboundHoldHandler(onActive: { calls += 1 }))
        #expect(calls == 0)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(calls == 1)
        channel.pipeline.fireChannelActive()
        #expect(calls == 1)
        _ = try channel.finish()
    }

    @Test func onActiveRunsAtOnceOnAnActiveChannel() throws {
        var calls = 0
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(InboundHoldHandler(onActive: { calls += 1 }))
        #expect(calls == 1)
        _ = try channel.finish()
    }

    @Test func holdsBytesAndEndOfInput() throws {
        let pair = try ChannelPair()
        let hold = InboundHoldHandler()
        let after = ChannelEventRecorder()
        try pair.left.pipeline.syncOperations.addHandlers([hold, after])
        try pair.left.writeInbound(ByteBuffer(string: "abc"))
        try pair.left.writeInbound(ByteBuffer(string: "de"))
        pair.left.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(hold.heldBytes == 5)
        #expect(after.events.isEmpty)
        #expect(try pair.left.readInbound(as: ByteBuffer.self) == nil)
    }

    @Test func spliceReplaysInOrderAndLeavesThePipeline() throws {
        let pair = try ChannelPair()
        let hold = InboundHoldHandler()
        try pair.left.pipeline.syncOperations.addHandler(hold)
        try pair.left.writeInbound(ByteBuffer(string: "abc"))
        try pair.left.writeInbound(ByteBuffer(string: "de"))
        pair.left.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)

        let (leftGlue, rightGlue) = GlueHandler.matchedPair()
        let rightRecorder = ChannelEventRecorder()
        try pair.right.pipeline.syncOperations.addHandlers([rightRecorder, rightGlue])
        try hold.splice(with: leftGlue)
        pair.loop.run()

        #expect(rightRecorder.events.prefix(6) == ["write abc", "write de", "flush", "write ", "flush", "close output"])
        #expect(leftGlue.bytesForwarded == 5)
        #expect(hold.heldBytes == 0)
    }

    @Test func bytesAfterTheSpliceGoStraightThrough() throws {
        let pair = try ChannelPair()
        let hold = InboundHoldHandler()
        try pair.left.pipeline.syncOperations.addHandler(hold)
        let (leftGlue, rightGlue) = GlueHandler.matchedPair()
        try pair.right.pipeline.syncOperations.addHandler(rightGlue)
        try hold.splice(with: leftGlue)
        #expect(throws: (any Error).self) { try pair.left.pipeline.syncOperations.context(handlerType: InboundHoldHandler.self) }
        #expect(throws: Never.self) { try pair.left.pipeline.syncOperations.context(handlerType: GlueHandler.self) }
        try pair.left.writeInbound(ByteBuffer(string: "later"))
        #expect(try pair.right.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "later"))
        #expect(pair.right.isActive)
    }

    @Test func spliceBeforeBeingAddedIsAnError() {
        let (glue, _) = GlueHandler.matchedPair()
        #expect(throws: ChannelError.ioOnClosedChannel) { try InboundHoldHandler().splice(with: glue) }
    }
}
