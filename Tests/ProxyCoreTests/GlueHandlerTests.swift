import NIOCore
import NIOEmbedded
import ProxyCore
import Testing

/// GlueHandler between two EmbeddedChannels: forwarding, back-pressure, half-closure, closure.
@Suite struct GlueHandlerTests {
    struct Spliced {
        let pair: ChannelPair
        let leftGlue: GlueHandler
        let rightGlue: GlueHandler
        /// Sits between each channel's head and its glue: sees the glue's writes, reads and closes.
        let leftRecorder = ChannelEventRecorder()
        let rightRecorder = ChannelEventRecorder()

        init() throws {
            pair = try ChannelPair()
            (leftGlue, rightGlue) = GlueHandler.matchedPair()
            try pair.left.pipeline.syncOperations.addHandlers([leftRecorder, leftGlue])
            try pair.right.pipeline.syncOperations.addHandlers([rightRecorder, rightGlue])
            leftRecorder.removeAll()
            rightRecorder.removeAll()
        }
    }

    struct Boom: Error {}

    @Test func bytesReadOnOneSideAreWrittenAndFlushedOnTheOther() throws {
        let spliced = try Spliced()
        try spliced.pair.left.writeInbound(ByteBuffer(string: "hello"))
        #expect(try spliced.pair.right.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "hello"))
        #expect(spliced.rightRecorder.events.suffix(2) == ["write hello", "flush"])
        #expect(spliced.leftGlue.bytesForwarded == 5)
        #expect(spliced.rightGlue.bytesForwarded == 0)
        // Nothing is passed further up the reading side's pipeline.
        #expect(try spliced.pair.left.readInbound(as: ByteBuffer.self) == nil)

        try spliced.pair.right.writeInbound(ByteBuffer(string: "back"))
        #expect(try spliced.pair.left.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "back"))
        #expect(spliced.rightGlue.bytesForwarded == 4)
    }

    @Test func readsWaitForThePartnerToBeWritable() throws {
        let spliced = try Spliced()
        spliced.pair.right.isWritable = false
        spliced.pair.left.read()
        #expect(!spliced.leftRecorder.events.contains("read"))

        spliced.pair.right.isWritable = true
        spliced.pair.right.pipeline.fireChannelWritabilityChanged()
        #expect(spliced.leftRecorder.events.filter { $0 == "read" }.count == 1)

        // With the partner writable a read goes straight through.
        spliced.pair.left.read()
        #expect(spliced.leftRecorder.events.filter { $0 == "read" }.count == 2)
    }

    @Test func endOfInputClosesThePartnersOutputAfterPendingBytes() throws {
        let spliced = try Spliced()
        try spliced.pair.left.writeInbound(ByteBuffer(string: "last"))
        spliced.pair.left.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        spliced.pair.loop.run()
        #expect(spliced.rightRecorder.events.prefix(5) == ["write last", "flush", "write ", "flush", "close output"])
        // A second end-of-input does not close again.
        let before = spliced.rightRecorder.events.filter { $0 == "close output" }.count
        spliced.pair.left.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        spliced.pair.loop.run()
        #expect(spliced.rightRecorder.events.filter { $0 == "close output" }.count == before)
    }

    @Test func closingOneSideClosesTheOtherAfterAFlush() throws {
        let spliced = try Spliced()
        try spliced.pair.left.close().wait()
        spliced.pair.loop.run()
        #expect(spliced.rightRecorder.events.prefix(3) == ["write ", "flush", "close all"])
        #expect(!spliced.pair.right.isActive)
    }

    @Test func anErrorClosesBothSides() throws {
        let spliced = try Spliced()
        spliced.pair.left.pipeline.fireErrorCaught(Boom())
        spliced.pair.loop.run()
        #expect(spliced.leftRecorder.events.contains("close all"))
        #expect(!spliced.pair.left.isActive)
        #expect(!spliced.pair.right.isActive)
        #expect(throws: Boom.self) { try spliced.pair.left.throwIfErrorCaught() }
    }
}
