import NIOCore
import ServerALPN
import Testing

/// One `ClientHelloParser` fed the growing buffer of a connection, read by read.
@Suite("ClientHello incremental parsing")
struct ClientHelloIncrementalTests {
    @Test("a parser fed the growing buffer byte by byte finds the golden ClientHello", arguments: GoldenHello.allCases)
    func growingBuffer(_ golden: GoldenHello) throws {
        let bytes = try golden.bytes()
        var parser = ClientHelloParser()
        var buffer = ByteBuffer()
        var early: [Int] = []
        var final: ClientHelloParser.Result?
        for (index, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            let result = parser.parse(buffer)
            if index < bytes.count - 1 {
                if !result.needsMoreData { early.append(index) }
            } else {
                final = result
            }
        }
        #expect(early.isEmpty)
        let hello = try #require(final?.hello)
        #expect(hello.serverName == golden.expectedServerName)
        #expect(hello.applicationProtocols == golden.expectedProtocols)
    }

    @Test("a parser fed a re-framed ClientHello record by record finds it")
    func recordByRecord() throws {
        let message = TLSRecords.handshakeMessage(of: try GoldenHello.opensslSNIALPN.bytes())
        let records = TLSRecords.reframe(message, fragmentSize: 3)
        var parser = ClientHelloParser()
        var buffer = ByteBuffer()
        var result = ClientHelloParser.Result.needMoreData
        for start in stride(from: 0, to: records.count, by: 8) {
            buffer.writeBytes(records[start..<min(records.count, start + 8)])
            result = parser.parse(buffer)
        }
        #expect(result.hello?.applicationProtocols == ["teleport-postgres-ping", "teleport-postgres"])
    }

    @Test("a buffer shorter than what the parser already took apart is refused")
    func inconsistentInput() throws {
        let message = TLSRecords.handshakeMessage(of: try GoldenHello.pythonSSL.bytes())
        let records = TLSRecords.reframe(message, fragmentSize: 100)
        var parser = ClientHelloParser()
        #expect(parser.parse(ByteBuffer(bytes: records[0..<210])).needsMoreData)
        #expect(parser.parse(ByteBuffer(bytes: records[0..<10])).invalidReason?.contains("inconsistent") == true)
    }

    @Test("a non-TLS record after good ones is refused")
    func badRecordLater() throws {
        let message = TLSRecords.handshakeMessage(of: try GoldenHello.pythonSSL.bytes())
        var parser = ClientHelloParser()
        var buffer = ByteBuffer(bytes: TLSRecords.record(Array(message[0..<100])))
        #expect(parser.parse(buffer).needsMoreData)
        buffer.writeBytes(TLSRecords.record(Array(message[100...]), contentType: 23))
        #expect(parser.parse(buffer).invalidReason?.contains("first byte 23") == true)
    }
}
