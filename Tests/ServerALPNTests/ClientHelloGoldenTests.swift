import NIOCore
import ServerALPN
import Testing

/// ClientHellos captured from real clients parse into the server name and ALPN list they were
/// given, in the client's order.
@Suite("ClientHello golden bytes")
struct ClientHelloGoldenTests {
    @Test("real ClientHello yields SNI and ALPN in client order", arguments: GoldenHello.allCases)
    func parsesGolden(_ golden: GoldenHello) throws {
        let hello = try #require(ClientHelloParser.parse(try golden.buffer()).hello)
        #expect(hello.serverName == golden.expectedServerName)
        #expect(hello.applicationProtocols == golden.expectedProtocols)
    }

    @Test("fixtures are single whole TLS handshake records", arguments: GoldenHello.allCases)
    func fixtureShape(_ golden: GoldenHello) throws {
        let bytes = try golden.bytes()
        #expect(bytes.count > 200)
        #expect(bytes[0] == 22)
        #expect(TLSRecords.fragments(of: bytes).count == 1)
        #expect(5 + (Int(bytes[3]) << 8 | Int(bytes[4])) == bytes.count)
    }

    @Test("the buffer passed in is not consumed")
    func doesNotConsume() throws {
        let buffer = try GoldenHello.opensslSNIALPN.buffer()
        let before = buffer.readableBytes
        _ = ClientHelloParser.parse(buffer)
        #expect(buffer.readableBytes == before)
        #expect(buffer.readerIndex == 0)
    }

    @Test("bytes after the ClientHello (next records) do not change the result", arguments: GoldenHello.allCases)
    func trailingBytesIgnored(_ golden: GoldenHello) throws {
        let bytes = try golden.bytes()
        // A ChangeCipherSpec record as a TLS 1.3 client in middlebox mode would send next.
        let followed = bytes + TLSRecords.record([1], contentType: 20, version: 0x0303)
        let hello = try #require(Parse.bytes(followed).hello)
        #expect(hello.serverName == golden.expectedServerName)
        #expect(hello.applicationProtocols == golden.expectedProtocols)
    }

    @Test("a ClientHello with a reader index past zero parses from the readable bytes")
    func readerIndexRespected() throws {
        var buffer = ByteBuffer(bytes: [0xde, 0xad, 0xbe, 0xef])
        buffer.writeBytes(try GoldenHello.pythonSSL.bytes())
        buffer.moveReaderIndex(forwardBy: 4)
        let hello = try #require(ClientHelloParser.parse(buffer).hello)
        #expect(hello.serverName == "proxy.localhost")
    }
}
