import Foundation
import NIOCore
import Testing
import WireMongo

@testable import LocalDBProxy

/// The local proxy's view of a MongoDB client stream, fed pymongo captures and TLS
/// ClientHellos in every split; no sockets.
@Suite("MongoDB client stream")
struct MongoClientStreamTests {
    private static func mongo(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Golden.fixtures.appendingPathComponent("mongo/" + name)))
    }

    /// Feeds `bytes` in chunks of `size`; returns what was forwarded, the first request's header,
    /// and the failure if any.
    private static func feed(
        _ bytes: [UInt8], chunk size: Int, localTLS: Bool = false
    ) -> (forwarded: [UInt8], first: MongoMessageHeader?, tls: [UInt8]?, failure: String?) {
        var stream = MongoClientStream(localTLS: localTLS)
        var forwarded: [UInt8] = []
        var first: MongoMessageHeader?
        var index = 0
        while index < bytes.count {
            let end = min(index + size, bytes.count)
            switch stream.received(ByteBuffer(bytes: bytes[index..<end])) {
            case .readMore: break
            case .startTLS(let replay): return (forwarded, first, Array(replay.readableBytesView), nil)
            case .forward(let buffer, let header):
                forwarded += buffer.readableBytesView
                if let header { first = header }
            case .fail(let reason, _, _): return (forwarded, first, nil, reason)
            }
            index = end
        }
        return (forwarded, first, nil, nil)
    }

    @Test("a pymongo session passes byte for byte in every chunk size; the first header is the handshake's",
          arguments: [1, 2, 7, 15, 16, 17, 100, 4096])
    func pymongoSession(chunk: Int) throws {
        let bytes = try Self.mongo("plain.client.bin")
        let result = Self.feed(bytes, chunk: chunk)
        #expect(result.failure == nil)
        #expect(result.forwarded == bytes)
        let expected = MongoMessageHeader.peek(in: ByteBuffer(bytes: bytes))
        #expect(result.first == expected)
        #expect(result.first?.opCode == .msg)
    }

    @Test("the legacy OP_QUERY handshake and zlib-compressed sessions pass too",
          arguments: ["handshake-query.client.bin", "zlib.client.bin", "legacy.client.bin", "find-checksum.client.bin"])
    func otherCaptures(capture: String) throws {
        let bytes = try Self.mongo(capture)
        let result = Self.feed(bytes, chunk: 5)
        #expect(result.failure == nil)
        #expect(result.forwarded == bytes)
    }

    @Test("a TLS ClientHello first starts local TLS with the whole hello replayed, in any split",
          arguments: [1, 2, 5, 16, 512])
    func clientHello(chunk: Int) throws {
        let hello = try Golden.tls("python-ssl-sni-alpn.bin")
        let result = Self.feed(hello, chunk: chunk, localTLS: true)
        #expect(result.failure == nil)
        #expect(result.forwarded.isEmpty)
        // The replay holds at least what had arrived when TLS was recognised, from the start.
        let replay = try #require(result.tls)
        #expect(replay == Array(hello.prefix(replay.count)))
        #expect(replay.count >= 16)
    }

    @Test("a TLS ClientHello without local TLS is refused with a reason naming --local-tls")
    func clientHelloWithoutLocalTLS() throws {
        let result = Self.feed(try Golden.tls("openssl-sni-alpn.bin"), chunk: 4096)
        #expect(result.failure?.contains("--local-tls") == true)
    }

    @Test("a message whose length starts 0x16 0x03 is MongoDB, not TLS")
    func messageThatLooksLikeTLS() {
        // 0x0316 = 790 bytes of OP_MSG: flags 0, one kind-0 section with an empty-ish body.
        var buffer = ByteBuffer()
        MongoMessageHeader(messageLength: 790, requestID: 7, responseTo: 0, opCode: .msg).write(into: &buffer)
        buffer.writeRepeatingByte(0, count: 790 - 16)
        let bytes = Array(buffer.readableBytesView)
        #expect(bytes[0] == 0x16 && bytes[1] == 0x03)
        let result = Self.feed(bytes, chunk: 3, localTLS: true)
        #expect(result.tls == nil)
        #expect(result.first?.requestID == 7)
        #expect(result.forwarded == bytes)
    }

    @Test("bad headers fail with a ProtocolError reply to the request that carried them",
          arguments: [Int32(15), 0, -1, 48_000_001, .max])
    func badLength(length: Int32) {
        var buffer = ByteBuffer()
        MongoMessageHeader(messageLength: length, requestID: 42, responseTo: 0, opCode: .msg).write(into: &buffer)
        var stream = MongoClientStream(localTLS: false)
        guard case .fail(let reason, let reply, let request) = stream.received(buffer) else {
            Issue.record("expected a failure")
            return
        }
        #expect(!reason.isEmpty)
        #expect(reply?.code == 17)
        #expect(request?.requestID == 42)
    }

    @Test("a bad second header fails after the first message passed")
    func badSecondHeader() throws {
        let first = try Self.mongo("handshake-msg.client.bin")
        var buffer = ByteBuffer()
        MongoMessageHeader(messageLength: 16, requestID: 9, responseTo: 0, opCode: MongoOpCode(rawValue: 9999)).write(into: &buffer)
        let result = Self.feed(first + Array(buffer.readableBytesView), chunk: 4096)
        #expect(result.failure != nil)
    }
}
