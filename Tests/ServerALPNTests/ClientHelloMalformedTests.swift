import NIOCore
import ServerALPN
import Testing

/// Input that is not a well-formed ClientHello is refused with a reason, never a crash, and
/// never waits for more than the 64 KiB bound.
@Suite("ClientHello malformed input")
struct ClientHelloMalformedTests {
    // MARK: Not TLS

    @Test("a Postgres SSLRequest is not TLS")
    func postgresSSLRequest() {
        let reason = Parse.bytes([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]).invalidReason
        #expect(reason?.contains("not a TLS handshake") == true)
    }

    @Test("an HTTP request is not TLS")
    func httpRequest() {
        let reason = Parse.string("GET / HTTP/1.1\r\nHost: proxy.localhost\r\n\r\n").invalidReason
        #expect(reason?.contains("first byte 71") == true)
    }

    @Test("a non-TLS first byte is refused as soon as a record header's worth has arrived")
    func refusedAfterFiveBytes() {
        #expect(Parse.string("GET /").invalidReason != nil)
        #expect(Parse.bytes([0x00, 0x00, 0x00, 0x08, 0x04]).invalidReason != nil)
    }

    @Test("an SSLv2-compatible hello is refused")
    func sslv2Hello() {
        #expect(Parse.bytes([0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15]).invalidReason != nil)
    }

    @Test("an alert or application data record first is refused", arguments: [UInt8(21), 23, 20])
    func otherContentTypes(contentType: UInt8) {
        let record = TLSRecords.record([1, 0, 0, 0], contentType: contentType)
        #expect(Parse.bytes(record).invalidReason?.contains("first byte \(contentType)") == true)
    }

    @Test("record versions other than 3.x are refused", arguments: [UInt16(0x0201), 0x0401, 0xfeff])
    func badRecordVersion(version: UInt16) {
        let record = TLSRecords.record(HelloBuilder(serverName: "x").message(), version: version)
        #expect(Parse.bytes(record).invalidReason?.contains("version") == true)
    }

    @Test("a handshake that is not a ClientHello (ServerHello) is refused")
    func serverHello() {
        var message = HelloBuilder(serverName: "x").message()
        message[0] = 2
        #expect(Parse.bytes(TLSRecords.record(message)).invalidReason?.contains("not a ClientHello") == true)
    }

    // MARK: Truncation

    @Test("a golden ClientHello cut short needs more data", arguments: [0, 1, 4, 5, 9, 100, 367])
    func truncatedGolden(length: Int) throws {
        let bytes = try GoldenHello.opensslSNIALPN.bytes()
        #expect(Parse.bytes(Array(bytes[0..<length])).needsMoreData)
    }

    @Test("a ClientHello whose body ends inside the fixed fields is refused as truncated")
    func truncatedBody() {
        let message: [UInt8] = [1] + TLSRecords.u24(20) + [0x03, 0x03] + Array(repeating: 0, count: 18)
        #expect(Parse.bytes(TLSRecords.record(message)).invalidReason?.contains("truncated") == true)
    }

    @Test("a ClientHello of length zero is refused")
    func emptyHello() {
        #expect(Parse.bytes(TLSRecords.record([1, 0, 0, 0])).invalidReason != nil)
    }

    @Test("a ClientHello without an extensions block parses with no SNI and no ALPN")
    func noExtensions() throws {
        var builder = HelloBuilder()
        builder.includeExtensionBlock = false
        let hello = try #require(Parse.bytes(builder.records()).hello)
        #expect(hello == ClientHello(serverName: nil, applicationProtocols: []))
    }

    // MARK: Lengths that lie

    @Test("a zero-length record is refused")
    func zeroLengthRecord() {
        #expect(Parse.bytes([22, 3, 1, 0, 0]).invalidReason?.contains("record length") == true)
    }

    @Test("a record longer than TLS allows (2^14 + 2048) is refused", arguments: [18433, 0xffff])
    func recordLengthOverLimit(length: Int) {
        #expect(Parse.bytes([22, 3, 1] + TLSRecords.u16(length) + [1]).invalidReason?.contains("record length") == true)
    }

    @Test("the largest legal record length waits for its bytes")
    func recordLengthAtLimit() {
        #expect(Parse.bytes([22, 3, 1] + TLSRecords.u16(18432) + [1, 0, 0, 40]).needsMoreData)
    }

    @Test("a handshake length over 64 KiB is refused at once", arguments: [65537, 0xffffff])
    func handshakeLengthOverBound(length: Int) {
        let record = TLSRecords.record([1] + TLSRecords.u24(length) + [3, 3])
        #expect(Parse.bytes(record).invalidReason?.contains("exceeds") == true)
    }

    @Test("a handshake length of exactly 64 KiB is still waited for")
    func handshakeLengthAtBound() {
        let record = TLSRecords.record([1] + TLSRecords.u24(65536) + [3, 3])
        #expect(Parse.bytes(record).needsMoreData)
    }

    @Test("a handshake length larger than the record's data waits for more records")
    func handshakeLengthLongerThanRecord() throws {
        var message = HelloBuilder(serverName: "a").message()
        let lie = message.count - 4 + 10
        message.replaceSubrange(1..<4, with: TLSRecords.u24(lie))
        #expect(Parse.bytes(TLSRecords.record(message)).needsMoreData)
    }

    @Test("an extensions block longer than the ClientHello is refused")
    func extensionsBlockLies() {
        var builder = HelloBuilder(serverName: "proxy.localhost")
        builder.includeExtensionBlock = false
        var body = builder.body()
        body += TLSRecords.u16(500) + [0, 0, 0, 4]
        let message = [1] + TLSRecords.u24(body.count) + body
        #expect(Parse.bytes(TLSRecords.record(message)).invalidReason?.contains("extensions") == true)
    }

    @Test("an extension whose length runs past the block is refused")
    func extensionLengthLies() {
        var builder = HelloBuilder()
        builder.extraExtensions = [(0xff01, [0])]
        var message = builder.message()
        // The last extension's own length is the 2 bytes before its 1 data byte.
        message.replaceSubrange((message.count - 3)..<(message.count - 1), with: TLSRecords.u16(200))
        #expect(Parse.bytes(TLSRecords.record(message)).invalidReason?.contains("truncated extension") == true)
    }

    @Test("a session id or cipher suite length that runs past the body is refused")
    func fixedFieldLengthsLie() {
        var builder = HelloBuilder(serverName: "x")
        var body = builder.body()
        body[34] = 0xff  // session id length 255 with 32 bytes behind it
        var message = [1] + TLSRecords.u24(body.count) + body
        #expect(Parse.bytes(TLSRecords.record(message)).invalidReason?.contains("truncated") == true)

        builder.sessionID = []
        body = builder.body()
        body.replaceSubrange(35..<37, with: TLSRecords.u16(0xfff0))  // cipher suites length
        message = [1] + TLSRecords.u24(body.count) + body
        #expect(Parse.bytes(TLSRecords.record(message)).invalidReason?.contains("truncated") == true)
    }

    @Test("a server_name list longer than its extension is refused")
    func serverNameListLies() {
        let builder = HelloBuilder()
        var data = builder.serverNameExtension("proxy.localhost")
        data.replaceSubrange(0..<2, with: TLSRecords.u16(data.count + 5))
        let hello = HelloBuilder(extraExtensions: [(0, data)])
        #expect(Parse.bytes(hello.records()).invalidReason?.contains("server_name") == true)
    }

    @Test("a host name longer than its server_name entry is refused")
    func hostNameLengthLies() {
        let name = Array("proxy.localhost".utf8)
        let entry: [UInt8] = [0] + TLSRecords.u16(name.count + 3) + name
        let data = TLSRecords.u16(entry.count) + entry
        #expect(Parse.bytes(HelloBuilder(extraExtensions: [(0, data)]).records()).invalidReason?.contains("server_name") == true)
    }

    @Test("an ALPN list longer than its extension is refused")
    func alpnListLies() {
        var data = HelloBuilder().alpnExtension(["h2"])
        data.replaceSubrange(0..<2, with: TLSRecords.u16(40))
        #expect(Parse.bytes(HelloBuilder(extraExtensions: [(16, data)]).records()).invalidReason?.contains("ALPN") == true)
    }

    @Test("an ALPN name longer than the list is refused")
    func alpnNameLies() {
        let list: [UInt8] = [9] + Array("h2".utf8)
        let data = TLSRecords.u16(list.count) + list
        #expect(Parse.bytes(HelloBuilder(extraExtensions: [(16, data)]).records()).invalidReason?.contains("ALPN") == true)
    }

    @Test("an empty ALPN name is refused (RFC 7301 forbids it)")
    func emptyALPNName() {
        let list: [UInt8] = [2] + Array("h2".utf8) + [0]
        let data = TLSRecords.u16(list.count) + list
        #expect(Parse.bytes(HelloBuilder(extraExtensions: [(16, data)]).records()).invalidReason?.contains("ALPN") == true)
    }

    // MARK: Oddities that still parse

    @Test("unknown extensions are skipped and the first host name wins")
    func unknownExtensionsAndSecondName() throws {
        let names = [Array("first.example".utf8), Array("second.example".utf8)]
        let list: [UInt8] = names.flatMap { name -> [UInt8] in [0] + TLSRecords.u16(name.count) + name }
        let serverName = TLSRecords.u16(list.count) + list
        let builder = HelloBuilder(
            protocols: ["h2", "http/1.1"],
            extraExtensions: [(0x002b, [2, 3, 4]), (0, serverName), (0xfe0d, Array(repeating: 7, count: 300))])
        let hello = try #require(Parse.bytes(builder.records()).hello)
        #expect(hello.serverName == "first.example")
        #expect(hello.applicationProtocols == ["h2", "http/1.1"])
    }

    @Test("a non-host-name server_name entry is skipped")
    func otherNameType() throws {
        let other: [UInt8] = [7] + TLSRecords.u16(3) + [1, 2, 3]
        let host = Array("db.example".utf8)
        let list = other + [0] + TLSRecords.u16(host.count) + host
        let data = TLSRecords.u16(list.count) + list
        let hello = try #require(Parse.bytes(HelloBuilder(extraExtensions: [(0, data)]).records()).hello)
        #expect(hello.serverName == "db.example")
    }
}
