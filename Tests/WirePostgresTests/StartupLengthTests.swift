import NIOCore
import Testing
import WirePostgres

/// Startup packet lengths at and past every edge; the length is judged before the body arrives.
@Suite("Startup packet length edges")
struct StartupLengthTests {
    /// A StartupMessage of exactly `length` bytes: user=u plus one padding parameter.
    static func startup(length: Int) -> [UInt8] {
        let fixed = 8 + Bytes.cString("user").count + Bytes.cString("u").count + 1
        let paddingValue = length - fixed - Bytes.cString("p").count - 1
        let rest = Bytes.cString("user") + Bytes.cString("u") + Bytes.cString("p")
            + Array(repeating: UInt8(ascii: "x"), count: max(0, paddingValue)) + [0, 0]
        return Bytes.startupPacket(code: PostgresProtocolVersion.v3_0.code, rest)
    }

    @Test("length 7 is rejected")
    func seven() {
        var buffer = ByteBuffer(bytes: Bytes.int32(7) + [0, 0, 0])
        #expect(throws: PostgresWireError.self) { try PostgresStartupDecoder.decode(&buffer) }
    }

    @Test("length 8 is the smallest packet (SSLRequest)")
    func eight() throws {
        var buffer = ByteBuffer(bytes: Bytes.int32(8) + Bytes.int32(80_877_103))
        #expect(try PostgresStartupDecoder.decode(&buffer) == .sslRequest)
        #expect(buffer.readableBytes == 0)
    }

    @Test("length 10000 is accepted")
    func tenThousand() throws {
        let bytes = Self.startup(length: 10000)
        #expect(bytes.count == 10000)
        var buffer = ByteBuffer(bytes: bytes)
        let packet = try #require(try PostgresStartupDecoder.decode(&buffer))
        guard case .startup(let message) = packet else {
            Issue.record("not a StartupMessage")
            return
        }
        #expect(message.user == "u")
        #expect(message["p"]?.count == 10000 - 19)  // 8 + "user\0u\0p\0" + value + NUL + NUL
    }

    @Test("length 10001 is rejected from the length field alone")
    func tenThousandOne() {
        var buffer = ByteBuffer(bytes: Bytes.int32(10001))
        #expect(throws: PostgresWireError.self) { try PostgresStartupDecoder.decode(&buffer) }
        var whole = ByteBuffer(bytes: Self.startup(length: 10001))
        #expect(throws: PostgresWireError.self) { try PostgresStartupDecoder.decode(&whole) }
    }

    @Test("negative lengths are rejected", arguments: [Int32(-1), -8, Int32.min])
    func negative(length: Int32) {
        var buffer = ByteBuffer(bytes: Bytes.int32(length) + Bytes.int32(196_608))
        #expect(throws: PostgresWireError.self) { try PostgresStartupDecoder.decode(&buffer) }
    }

    @Test("2^31-1 is rejected at once, without waiting for or allocating the body")
    func huge() {
        var buffer = ByteBuffer(bytes: Bytes.int32(Int32.max))
        let error = #expect(throws: PostgresWireError.self) { try PostgresStartupDecoder.decode(&buffer) }
        #expect(error?.message.contains("2147483647") == true)
        #expect(buffer.readableBytes == 4)
    }

    @Test("the length error names the limit")
    func message() {
        var buffer = ByteBuffer(bytes: Bytes.int32(10001))
        let error = #expect(throws: PostgresWireError.self) { try PostgresStartupDecoder.decode(&buffer) }
        #expect(error?.message.contains("10000") == true)
        #expect(error?.description.contains("10001") == true)
    }

    @Test("partial input returns nil and consumes nothing, at every prefix")
    func partial() throws {
        let bytes = Self.startup(length: 64)
        for count in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes.prefix(count))
            #expect(try PostgresStartupDecoder.decode(&buffer) == nil)
            #expect(buffer.readableBytes == count)
        }
    }

    @Test("bytes after the packet stay in the buffer")
    func trailing() throws {
        var buffer = ByteBuffer(bytes: Bytes.int32(8) + Bytes.int32(80_877_103) + [0x16, 0x03])
        #expect(try PostgresStartupDecoder.decode(&buffer) == .sslRequest)
        #expect(Array(buffer.readableBytesView) == [0x16, 0x03])
    }

    @Test("a TLS ClientHello first is recognised, a startup packet is not")
    func tlsDetection() {
        #expect(PostgresStartupDecoder.looksLikeTLS(ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x02, 0x00])))
        #expect(PostgresStartupDecoder.looksLikeTLS(ByteBuffer(bytes: [0x16])))
        #expect(!PostgresStartupDecoder.looksLikeTLS(ByteBuffer()))
        #expect(!PostgresStartupDecoder.looksLikeTLS(ByteBuffer(bytes: Bytes.int32(8) + Bytes.int32(80_877_103))))
    }

    @Test("a direct-TLS ClientHello fed to the decoder is a length error, not a wait")
    func tlsIntoDecoder() {
        var buffer = ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        #expect(throws: PostgresWireError.self) { try PostgresStartupDecoder.decode(&buffer) }
    }
}
