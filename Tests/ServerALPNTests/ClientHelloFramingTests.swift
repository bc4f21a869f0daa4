import NIOCore
import ServerALPN
import Testing

/// A ClientHello may arrive over several TLS records and over several reads.
@Suite("ClientHello framing")
struct ClientHelloFramingTests {
    @Test("a ClientHello re-framed into several records parses the same", arguments: [1, 7, 64, 100, 255])
    func splitAcrossRecords(fragmentSize: Int) throws {
        let golden = try GoldenHello.opensslSNIALPN.bytes()
        let message = TLSRecords.handshakeMessage(of: golden)
        let reframed = TLSRecords.reframe(message, fragmentSize: fragmentSize)
        #expect(TLSRecords.fragments(of: reframed).count == (message.count + fragmentSize - 1) / fragmentSize)
        let hello = try #require(Parse.bytes(reframed).hello)
        #expect(hello.serverName == "proxy.localhost")
        #expect(hello.applicationProtocols == ["teleport-postgres-ping", "teleport-postgres"])
    }

    @Test("a split whose first record is shorter than the handshake header parses")
    func headerSplitAcrossRecords() throws {
        let message = TLSRecords.handshakeMessage(of: try GoldenHello.pythonSSL.bytes())
        let bytes = TLSRecords.record(Array(message[0..<2])) + TLSRecords.record(Array(message[2...]))
        let hello = try #require(Parse.bytes(bytes).hello)
        #expect(hello.applicationProtocols == GoldenHello.pythonSSL.expectedProtocols)
    }

    @Test("every proper prefix of a re-framed ClientHello needs more data")
    func prefixesOfSplitHello() throws {
        let message = TLSRecords.handshakeMessage(of: try GoldenHello.opensslTLS12.bytes())
        let reframed = TLSRecords.reframe(message, fragmentSize: 50)
        for length in 0..<reframed.count {
            let result = Parse.bytes(Array(reframed[0..<length]))
            #expect(result.needsMoreData, "prefix of \(length) bytes gave \(result)")
        }
        #expect(Parse.bytes(reframed).hello?.serverName == "db.proxy.localhost")
    }

    @Test("feeding a golden ClientHello byte by byte needs more data until the last byte", arguments: GoldenHello.allCases)
    func byteAtATime(_ golden: GoldenHello) throws {
        let bytes = try golden.bytes()
        var buffer = ByteBuffer()
        var results: [ClientHelloParser.Result] = []
        for byte in bytes {
            buffer.writeInteger(byte)
            results.append(ClientHelloParser.parse(buffer))
        }
        let early = results.dropLast().filter { !$0.needsMoreData }
        #expect(early.isEmpty)
        let last = try #require(results.last?.hello)
        #expect(last.serverName == golden.expectedServerName)
        #expect(last.applicationProtocols == golden.expectedProtocols)
    }

    @Test("record versions 3.0 to 3.3 are all accepted", arguments: [UInt16(0x0300), 0x0301, 0x0302, 0x0303])
    func recordVersions(version: UInt16) throws {
        let message = HelloBuilder(serverName: "a.example", protocols: ["h2"]).message()
        let hello = try #require(Parse.bytes(TLSRecords.record(message, version: version)).hello)
        #expect(hello.serverName == "a.example")
    }
}
