import NIOCore
import Testing
import WireMySQL

@Suite("Packet framing")
struct FramingTests {
    @Test("the 3-byte length is little-endian at every byte boundary", arguments: [0, 1, 0xFF, 0x100, 0xFFFF, 0x1_0000, 0x12_3456])
    func lengthBoundaries(length: Int) throws {
        let payload = ByteBuffer(repeating: 0xAB, count: length)
        var buffer = ByteBuffer()
        MySQLPacket(sequenceID: 7, payload: payload).write(into: &buffer)
        #expect(buffer.readableBytes == 4 + length)
        #expect(buffer.bytes.prefix(4) == [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16), 7])
        var decoder = MySQLPacketDecoder()
        let packet = try #require(try decoder.decode(&buffer))
        #expect(packet.sequenceID == 7)
        #expect(packet.payload == payload)
        #expect(buffer.readableBytes == 0)
    }

    @Test("a frame split at every offset decodes only when whole, consuming nothing before")
    func splitAtEveryOffset() throws {
        var whole = ByteBuffer()
        MySQLPacket(sequenceID: 3, payload: ByteBuffer(bytes: Array(0..<40))).write(into: &whole)
        MySQLPacket(sequenceID: 4, payload: ByteBuffer()).write(into: &whole)
        let bytes = whole.bytes
        for cut in 0...bytes.count {
            var decoder = MySQLPacketDecoder()
            var buffer = ByteBuffer(bytes: bytes[..<cut])
            var packets: [MySQLPacket] = []
            while let packet = try decoder.decode(&buffer) { packets.append(packet) }
            buffer.writeBytes(bytes[cut...])
            while let packet = try decoder.decode(&buffer) { packets.append(packet) }
            #expect(packets.map(\.sequenceID) == [3, 4], "cut at \(cut)")
            #expect(packets.first?.payload.bytes == Array(0..<40))
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test("a partial frame leaves the reader index where it was")
    func partialConsumesNothing() throws {
        var decoder = MySQLPacketDecoder()
        var buffer = ByteBuffer(bytes: [5, 0, 0, 1, 0xAA, 0xBB])
        #expect(try decoder.decode(&buffer) == nil)
        #expect(buffer.readerIndex == 0)
        #expect(buffer.readableBytes == 6)
    }

    @Test("the writer numbers frames consecutively and wraps 255 -> 0")
    func sequenceWrap() throws {
        var buffer = ByteBuffer()
        let payload = ByteBuffer(bytes: [1, 2, 3])
        #expect(MySQLPacketWriter.write(payload: payload, sequenceID: 254, into: &buffer) == 255)
        #expect(MySQLPacketWriter.write(payload: payload, sequenceID: 255, into: &buffer) == 0)
        let packets = try Framing.packets(&buffer)
        #expect(packets.map(\.sequenceID) == [254, 255])
    }

    @Test("an empty payload is one empty frame")
    func emptyPayload() {
        var buffer = ByteBuffer()
        #expect(MySQLPacketWriter.write(payload: ByteBuffer(), sequenceID: 9, into: &buffer) == 10)
        #expect(buffer.bytes == [0, 0, 0, 9])
    }

    @Test("a payload of exactly 0xFFFFFF bytes is a full frame then an empty terminating frame")
    func exactlyOneFullFrame() throws {
        let size = MySQLPacketLimits.maximumFramePayload
        #expect(size == 0xFF_FFFF)
        var buffer = ByteBuffer()
        #expect(MySQLPacketWriter.write(payload: ByteBuffer(repeating: 0x5A, count: size), sequenceID: 255, into: &buffer) == 1)
        #expect(buffer.readableBytes == 4 + size + 4)
        #expect(buffer.getBytes(at: 0, length: 4) == [0xFF, 0xFF, 0xFF, 255])
        #expect(buffer.getBytes(at: 4 + size, length: 4) == [0, 0, 0, 0])
        let packets = try Framing.packets(&buffer)
        #expect(packets.map(\.sequenceID) == [255, 0])
        #expect(packets.map(\.isContinued) == [true, false])
        #expect(packets.map(\.payload.readableBytes) == [size, 0])
    }

    @Test("a larger payload continues over frames and is never reassembled by the decoder")
    func continuation() throws {
        let size = 2 * MySQLPacketLimits.maximumFramePayload + 10
        var payload = ByteBuffer()
        let pattern = (0..<251).map { UInt8($0) }  // 251 does not divide 0xFFFFFF, so frame edges differ
        while payload.readableBytes + pattern.count <= size { payload.writeBytes(pattern) }
        payload.writeBytes(pattern.prefix(size - payload.readableBytes))
        var buffer = ByteBuffer()
        #expect(MySQLPacketWriter.write(payload: payload, sequenceID: 0, into: &buffer) == 3)
        let packets = try Framing.packets(&buffer)
        #expect(packets.map(\.payload.readableBytes) == [0xFF_FFFF, 0xFF_FFFF, 10])
        var joined = ByteBuffer()
        for var packet in packets { joined.writeBuffer(&packet.payload) }
        #expect(joined.readableBytes == size)
        #expect(joined == payload)
    }

    @Test("MySQLPacket.write of an oversized payload falls back to continuation frames")
    func oversizedPacketWrite() throws {
        var buffer = ByteBuffer()
        MySQLPacket(sequenceID: 1, payload: ByteBuffer(repeating: 1, count: 0xFF_FFFF + 1)).write(into: &buffer)
        let packets = try Framing.packets(&buffer)
        #expect(packets.map(\.sequenceID) == [1, 2])
        #expect(packets.map(\.payload.readableBytes) == [0xFF_FFFF, 1])
    }

    @Test("a frame claiming 0xFFFFFF bytes with only a few present needs more data and copies nothing")
    func lyingLengthWaits() throws {
        var decoder = MySQLPacketDecoder()
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0, 1, 2, 3])
        let capacity = buffer.capacity
        #expect(try decoder.decode(&buffer) == nil)
        #expect(buffer.readerIndex == 0)
        #expect(buffer.readableBytes == 7)
        #expect(buffer.capacity == capacity)
    }

    @Test("a maximum payload below 0xFFFFFF is enforced as soon as the length is readable")
    func maximumEnforced() throws {
        var decoder = MySQLPacketDecoder(maximumPayload: 1000)
        var atLimit = ByteBuffer(bytes: [0xE8, 0x03, 0x00, 0])
        atLimit.writeRepeatingByte(0, count: 1000)
        #expect(try decoder.decode(&atLimit)?.payload.readableBytes == 1000)
        var over = ByteBuffer(bytes: [0xE9, 0x03, 0x00])
        #expect(throws: MySQLWireError.self) { try decoder.decode(&over) }
        var full = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0])
        #expect(throws: MySQLWireError.self) { try decoder.decode(&full) }
    }

    @Test("a maximum above 0xFFFFFF is clamped to the frame limit")
    func maximumClamped() {
        #expect(MySQLPacketDecoder(maximumPayload: 1 << 30).maximumPayload == 0xFF_FFFF)
        #expect(MySQLPacketDecoder(maximumPayload: -1).maximumPayload == 0)
    }
}
