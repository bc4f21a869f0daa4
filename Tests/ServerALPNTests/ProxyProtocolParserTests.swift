import NIOCore
@testable import ServerALPN
import Testing

/// The PROXY protocol parser against the specification's examples, HAProxy's own bytes, and
/// every way a header can be wrong. Every case is parsed at every split offset: each prefix of
/// the bytes (what the connection has after each byte arrives) must answer `needMoreData` until
/// the one answer every longer prefix gives.
@Suite("PROXY protocol parser")
struct ProxyProtocolParserTests {
    // MARK: Goldens

    @Test("goldens parse into their header at every split offset", arguments: ProxyProtocolFixture.allCases)
    func golden(_ fixture: ProxyProtocolFixture) throws {
        let bytes = try fixture.bytes()
        let (result, decidedAt) = ProxyProtocolParser.parseEveryPrefix(bytes)
        let header = try #require(result.header, "\(result)")
        #expect(header == fixture.expected)
        #expect(decidedAt == header.consumedBytes, "decided only once the whole header was there")
    }

    @Test("what follows a HAProxy header is the client's ClientHello, byte for byte",
          arguments: ProxyProtocolFixture.allCases.filter(\.carriesClientHello))
    func haproxyPayload(_ fixture: ProxyProtocolFixture) throws {
        let bytes = try fixture.bytes()
        let header = try #require(ProxyProtocolParser.parse(bytes).header)
        #expect(Array(bytes[header.consumedBytes...]) == (try GoldenHello.opensslSNIALPN.bytes()))
    }

    @Test("HAProxy's CRC32C TLV is checked: the capture passes, one changed byte fails")
    func crc32c() throws {
        var bytes = try ProxyProtocolFixture.haproxyV2TLVs.bytes()
        #expect(ProxyProtocolParser.parse(bytes).header != nil)
        bytes[16] ^= 0x01  // the source address
        let reason = try #require(ProxyProtocolParser.parse(bytes).invalidReason)
        #expect(reason.contains("CRC32C"))
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)  // RFC 3720's check value
    }

    @Test("the client address of a header: the source for PROXY, none for LOCAL, UNKNOWN and AF_UNIX")
    func clientAddress() {
        #expect(ProxyProtocolFixture.haproxyV2TCP4.expected.clientAddress?.description == "127.0.0.1:45555")
        #expect(ProxyProtocolFixture.haproxyV2TCP6.expected.clientAddress?.description == "[::1]:45556")
        #expect(ProxyProtocolFixture.haproxyV2HealthCheck.expected.clientAddress == nil)
        #expect(ProxyProtocolFixture.specV1UnknownShort.expected.clientAddress == nil)
        #expect(ProxyProtocolFixture.specV2Unix.expected.clientAddress == nil)
    }

    // MARK: Not a PROXY header

    @Test("first bytes that cannot start a header are notProxyProtocol at once", arguments: [
        [0x16, 0x03, 0x01],  // a TLS record
        [0x00, 0x00, 0x00, 0x08, 0x04, 0xD2, 0x16, 0x2F],  // a Postgres SSLRequest
        Array("GET / HTTP/1.1\r\n".utf8),
        Array("PRIVMSG".utf8),  // "PR" then not "O"
        [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0B],  // signature's last byte wrong
        [0x0D, 0x0A, 0x0A],
    ] as [[UInt8]])
    func notProxyProtocol(_ bytes: [UInt8]) {
        let (result, _) = ProxyProtocolParser.parseEveryPrefix(bytes)
        #expect(result == .notProxyProtocol)
    }

    @Test("no bytes, or only the start of a signature, need more data")
    func needMoreData() {
        #expect(ProxyProtocolParser.parse([UInt8]()) == .needMoreData)
        #expect(ProxyProtocolParser.parse(Array("PROX".utf8)) == .needMoreData)
        #expect(ProxyProtocolParser.parse(Array(ProxyProtocolBytes.signature.prefix(11))) == .needMoreData)
        #expect(ProxyProtocolParser.parse(ProxyProtocolBytes.signature + [0x21, 0x11, 0x00]) == .needMoreData)
        #expect(ProxyProtocolParser.looksLikeHeader(ByteBuffer(bytes: Array("PROXY TCP4".utf8))))
        #expect(!ProxyProtocolParser.looksLikeHeader(ByteBuffer(bytes: [0x16, 0x03, 0x01])))
    }

    // MARK: Version 1 edges

    @Test("version 1 lines that break a rule are invalid, with the reason", arguments: [
        ("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\n", "LF without CR"),
        ("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\rX", "CR not followed by LF"),
        ("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "single space"),
        ("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not TCP4, TCP6 or UNKNOWN"),
        ("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "exactly"),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "exactly"),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "exactly"),
        ("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "\"TCP5\" is not TCP4, TCP6 or UNKNOWN"),
        ("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "is not TCP4"),
        ("PROXY UNKNOWNX\r\n", "is not TCP4"),
        ("PROXY\r\n", "expected \"PROXY\" and a single space"),
        ("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "source address \"1.2.3.256\""),
        ("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", "source address \"1.2.3.04\""),
        ("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "source address"),
        ("PROXY TCP4 1.2.3.4 ::1 1 2\r\n", "destination address \"::1\" is not an IPv4"),
        ("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "source address \"1.2.3.4\" is not an IPv6"),
        ("PROXY TCP6 ::1 1::2::3 1 2\r\n", "destination address"),
        ("PROXY TCP6 ::1 12345::1 1 2\r\n", "destination address"),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 65536 443\r\n", "source port \"65536\""),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 0443 443\r\n", "source port \"0443\""),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 -1 443\r\n", "source port \"-1\""),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 +1 443\r\n", "source port \"+1\""),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n", "destination port \"\""),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 44x\r\n", "destination port \"44x\""),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\t\r\n", "not printable"),
    ])
    func v1Invalid(line: String, reason: String) throws {
        let (result, _) = ProxyProtocolParser.parseEveryPrefix(ProxyProtocolBytes.v1(line))
        let message = try #require(result.invalidReason, "\(result)")
        #expect(message.contains(reason), "\(message)")
        #expect(message.hasPrefix("version 1 header"))
    }

    @Test("a version 1 line without CRLF in its first 107 bytes is invalid at byte 107, not later")
    func v1TooLong() throws {
        let long = ProxyProtocolBytes.v1("PROXY UNKNOWN " + String(repeating: "f", count: 200))
        let (result, decidedAt) = ProxyProtocolParser.parseEveryPrefix(long)
        #expect(try #require(result.invalidReason).contains("no CRLF within the first 107 bytes"))
        #expect(decidedAt == 107)
        // The spec's longest line is 107 bytes with its CRLF; one more byte before it is too many.
        let longest = try ProxyProtocolFixture.specV1UnknownLongest.bytes()
        let oneMore = Array(longest.dropLast(2)) + Array("f\r\n".utf8)
        #expect(ProxyProtocolParser.parse(oneMore).invalidReason != nil)
    }

    @Test("version 1 TCP6 accepts every IPv6 spelling and an IPv4 tail (what HAProxy sends for a mapped address)", arguments: [
        ("::1", "::1"), ("2001:DB8::1", "2001:db8::1"), ("0:0:0:0:0:0:0:1", "::1"), ("::ffff:192.0.2.1", "::ffff:c000:201"),
        ("1::", "1::"), ("1:0:0:2::3", "1:0:0:2::3"), ("::", "::"),
    ])
    func v1IPv6Spellings(text: String, canonical: String) throws {
        let header = try #require(ProxyProtocolParser.parse(ProxyProtocolBytes.v1("PROXY TCP6 \(text) ::2 1 2\r\n")).header)
        #expect(header.source?.address.description == canonical)
        #expect(header.source?.port == 1)
    }

    @Test("version 1 UNKNOWN ignores what follows it on the line; port 0 and address 0.0.0.0 are valid")
    func v1UnknownAndZeros() throws {
        let unknown = try #require(ProxyProtocolParser.parse(ProxyProtocolBytes.v1("PROXY UNKNOWN whatever here\r\nX")).header)
        #expect(unknown.transport == .unknown && unknown.source == nil && unknown.consumedBytes == 29)
        let zeros = try #require(ProxyProtocolParser.parse(ProxyProtocolBytes.v1("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n")).header)
        #expect(zeros.source == ProxyProtocolEndpoint(address: .v4(0), port: 0))
    }

    // MARK: Version 2 edges

    @Test("version 2 headers that break a rule are invalid, with the reason", arguments: [
        (ProxyProtocolBytes.v2(verCmd: 0x11, ProxyProtocolBytes.tcp4Block), "version 1 (only 2 is defined)"),
        (ProxyProtocolBytes.v2(verCmd: 0x31, ProxyProtocolBytes.tcp4Block), "version 3"),
        (ProxyProtocolBytes.v2(verCmd: 0x22, ProxyProtocolBytes.tcp4Block), "command 2"),
        (ProxyProtocolBytes.v2(verCmd: 0x2F, ProxyProtocolBytes.tcp4Block), "command 15"),
        (ProxyProtocolBytes.v2(family: 0x41, ProxyProtocolBytes.tcp4Block), "byte 0x41 is not defined"),
        (ProxyProtocolBytes.v2(family: 0x13, ProxyProtocolBytes.tcp4Block), "byte 0x13 is not defined"),
        (ProxyProtocolBytes.v2(family: 0x10, ProxyProtocolBytes.tcp4Block), "byte 0x10 is not defined"),
        (ProxyProtocolBytes.v2(family: 0x11, Array(ProxyProtocolBytes.tcp4Block.prefix(11))), "shorter than the 12-byte address block"),
        (ProxyProtocolBytes.v2(family: 0x21, ProxyProtocolBytes.tcp4Block), "shorter than the 36-byte address block"),
        (ProxyProtocolBytes.v2(family: 0x31, [UInt8](repeating: 0, count: 200)), "shorter than the 216-byte address block"),
        (ProxyProtocolBytes.v2(ProxyProtocolBytes.tcp4Block + [0x04, 0x00]), "truncated TLV"),
        (ProxyProtocolBytes.v2(ProxyProtocolBytes.tcp4Block + [0x04, 0x00, 0x05, 0, 0]), "TLV 0x04 of 5 bytes"),
        (ProxyProtocolBytes.v2(ProxyProtocolBytes.tcp4Block + ProxyProtocolBytes.tlv(0x03, [0, 0, 0])), "CRC32C TLV of 3 bytes"),
        (ProxyProtocolBytes.v2(ProxyProtocolBytes.tcp4Block + ProxyProtocolBytes.tlv(0x03, [0, 0, 0, 0])), "CRC32C 0x0 does not match"),
    ])
    func v2Invalid(bytes: [UInt8], reason: String) throws {
        let (result, _) = ProxyProtocolParser.parseEveryPrefix(bytes)
        let message = try #require(result.invalidReason, "\(result)")
        #expect(message.contains(reason), "\(message)")
    }

    @Test("a version 2 length over the address block plus 4096 TLV bytes is refused from the 16 fixed bytes, before the rest arrives",
          arguments: [(0x00, 0), (0x11, 12), (0x21, 36), (0x31, 216)] as [(UInt8, Int)])
    func v2LengthBound(family: UInt8, addressLength: Int) throws {
        let fixed = ProxyProtocolBytes.v2(family: family, length: addressLength + 4097, [])
        #expect(fixed.count == 16)
        let reason = try #require(ProxyProtocolParser.parse(fixed).invalidReason)
        #expect(reason.contains("exceeds \(addressLength + 4096)"), "\(reason)")
        #expect(ProxyProtocolParser.parse(ProxyProtocolBytes.v2(family: family, length: 0xFFFF, [])).invalidReason != nil)
    }

    @Test("exactly 4096 TLV bytes are accepted and skipped")
    func v2LargestTLVs() throws {
        let noop = ProxyProtocolBytes.tlv(0x04, [UInt8](repeating: 0, count: 4096 - 3))
        let bytes = ProxyProtocolBytes.v2(ProxyProtocolBytes.tcp4Block + noop) + [0x16]
        let (result, decidedAt) = ProxyProtocolParser.parseEveryPrefix(bytes)
        let header = try #require(result.header)
        #expect(header.consumedBytes == 16 + 12 + 4096 && decidedAt == header.consumedBytes)
        #expect(header.tlvs.map(\.type) == [0x04])
        #expect(header.source?.description == "203.0.113.7:5555" && header.destination?.description == "192.0.2.1:443")
        #expect(ProxyProtocolParser.v2MaximumLength == 16 + 216 + 4096)
    }

    @Test("LOCAL is accepted with any block, which is skipped; its addresses are ignored", arguments: [
        ProxyProtocolBytes.v2(verCmd: 0x20, family: 0x00, []),
        ProxyProtocolBytes.v2(verCmd: 0x20, family: 0x11, ProxyProtocolBytes.tcp4Block),
        ProxyProtocolBytes.v2(verCmd: 0x20, family: 0x11, [1, 2, 3]),  // shorter than the block: skipped whole
        ProxyProtocolBytes.v2(verCmd: 0x20, family: 0x00, ProxyProtocolBytes.tlv(0x05, Array("id".utf8))),
    ])
    func v2Local(_ bytes: [UInt8]) throws {
        let (result, _) = ProxyProtocolParser.parseEveryPrefix(bytes + [0x16, 0x03])
        let header = try #require(result.header)
        #expect(header.command == .local && header.source == nil && header.clientAddress == nil)
        #expect(header.consumedBytes == bytes.count)
    }

    @Test("datagram and AF_UNSPEC PROXY headers are accepted without an address (the spec's fallback to UNSPEC)", arguments: [
        (0x12, .udp4, 12), (0x22, .udp6, 36), (0x00, .unspecified, 0), (0x32, .unixDatagram, 216),
    ] as [(UInt8, ProxyProtocolHeader.Transport, Int)])
    func v2WithoutAddress(family: UInt8, transport: ProxyProtocolHeader.Transport, length: Int) throws {
        let header = try #require(ProxyProtocolParser.parse(ProxyProtocolBytes.v2(family: family, [UInt8](repeating: 1, count: length))).header)
        #expect(header.transport == transport && header.source == nil && header.command == .proxy)
    }
}
