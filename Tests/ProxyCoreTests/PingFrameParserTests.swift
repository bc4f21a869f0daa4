import NIOCore
import ProxyCore
import Testing

/// PingFrameParser on its own: ping counting and frame state.
@Suite struct PingFrameParserTests {
    @Test func countsPingsAndTracksFrameState() {
        var parser = PingFrameParser()
        var buffer = ByteBuffer(bytes: PingBytes.ping + PingBytes.ping + [0, 0, 0, 4, 9, 9])
        #expect(!parser.isInsideFrame)
        let first = parser.nextPayload(from: &buffer)
        #expect(first.map { Array($0.readableBytesView) } == [9, 9])
        #expect(parser.pingsReceived == 2)
        #expect(parser.isInsideFrame)
        #expect(parser.nextPayload(from: &buffer) == nil)

        buffer.writeBytes([9, 9] + PingBytes.ping)
        let second = parser.nextPayload(from: &buffer)
        #expect(second.map { Array($0.readableBytesView) } == [9, 9])
        #expect(!parser.isInsideFrame)
        #expect(parser.pingsReceived == 2)
        #expect(parser.nextPayload(from: &buffer) == nil)
        #expect(parser.pingsReceived == 3)
        #expect(buffer.readableBytes == 0)
    }

    @Test func stopsAtTheFrameBoundary() {
        var parser = PingFrameParser()
        var buffer = ByteBuffer(bytes: PingBytes.frame([1, 2]) + PingBytes.frame([3]))
        #expect(parser.nextPayload(from: &buffer).map { Array($0.readableBytesView) } == [1, 2])
        #expect(parser.nextPayload(from: &buffer).map { Array($0.readableBytesView) } == [3])
        #expect(parser.nextPayload(from: &buffer) == nil)
    }

    @Test func incompleteHeaderIsLeftInTheBuffer() {
        var parser = PingFrameParser()
        var buffer = ByteBuffer(bytes: [0, 0, 1])
        #expect(parser.nextPayload(from: &buffer) == nil)
        #expect(buffer.readableBytes == 3)
        #expect(!parser.isInsideFrame)
        buffer.writeBytes([0] + [UInt8](repeating: 7, count: 256))
        #expect(parser.nextPayload(from: &buffer)?.readableBytes == 256)
        #expect(!parser.isInsideFrame)
    }
}
