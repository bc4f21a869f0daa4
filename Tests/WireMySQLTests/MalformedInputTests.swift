import NIOCore
import Testing
import WireMySQL

/// Truncated packets, lying lengths and missing NULs throw; nothing crashes.
@Suite("Malformed inputs")
struct MalformedInputTests {
    static func expectThrows(_ bytes: [UInt8], _ decode: (ByteBuffer) throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: MySQLWireError.self, sourceLocation: sourceLocation) { try decode(ByteBuffer(bytes: bytes)) }
    }

    static func greeting(_ buffer: ByteBuffer) throws { _ = try MySQLHandshakeV10(decoding: buffer) }
    static func response(_ buffer: ByteBuffer) throws { _ = try MySQLHandshakeResponse41(decoding: buffer) }
    static func client(_ buffer: ByteBuffer) throws { _ = try MySQLClientHandshake(decoding: buffer) }
    static func error(_ buffer: ByteBuffer) throws { _ = try MySQLErrorPacket(decoding: buffer) }
    static func ok(_ buffer: ByteBuffer) throws { _ = try MySQLOKPacket(decoding: buffer) }
    static func okTracked(_ buffer: ByteBuffer) throws {
        _ = try MySQLOKPacket(decoding: buffer, capabilities: [.protocol41, .sessionTrack])
    }
    static func authSwitch(_ buffer: ByteBuffer) throws { _ = try MySQLAuthSwitchRequest(decoding: buffer) }

    /// A small valid HandshakeResponse41 prefix: capabilities, max packet, charset, 23 zero bytes.
    static func prefix(_ capabilities: MySQLCapabilities) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(capabilities.rawValue, endianness: .little)
        buffer.writeInteger(UInt32(1 << 24), endianness: .little)
        buffer.writeInteger(UInt8(45))
        buffer.writeRepeatingByte(0, count: 23)
        return buffer.bytes
    }

    @Test("every strict prefix of a real greeting throws")
    func truncatedGreetings() throws {
        for capture in ["alice.server.bin"] {
            let bytes = try Golden.packets(capture)[0].payload.bytes
            for length in 0..<bytes.count {
                Self.expectThrows(Array(bytes[..<length]), Self.greeting)
            }
        }
        let mysql8 = Array(MySQL8GreetingTests.mysql8.dropFirst(4))
        for length in 0..<mysql8.count {
            Self.expectThrows(Array(mysql8[..<length]), Self.greeting)
        }
    }

    @Test("greeting: wrong protocol version, missing NULs, and a scramble length past the end throw")
    func badGreetings() throws {
        var bytes = try Golden.packets("alice.server.bin")[0].payload.bytes
        Self.expectThrows([9] + bytes.dropFirst(), Self.greeting)
        Self.expectThrows([10] + Array("5.5.5-no-nul".utf8), Self.greeting)
        Self.expectThrows(Array(bytes.dropLast()), Self.greeting)  // plugin name without its NUL
        let versionEnd = try #require(bytes.firstIndex(of: 0))
        bytes[versionEnd + 1 + 4 + 8 + 1 + 2 + 1 + 2 + 2] = 0xFF  // scramble length 255: 247 bytes of part 2
        Self.expectThrows(bytes, Self.greeting)
    }

    @Test("every strict prefix of a real HandshakeResponse41 throws or decodes to fewer fields, never crashes")
    func truncatedResponses() throws {
        let bytes = try Golden.packets("alice.client.bin")[0].payload.bytes
        var decoded = 0
        for length in 0..<bytes.count {
            do {
                let response = try MySQLHandshakeResponse41(decoding: ByteBuffer(bytes: bytes[..<length]))
                #expect(response.connectAttributes == nil, "prefix of \(length) bytes")
                decoded += 1
            } catch {}
        }
        // Only the cuts right after the auth response, the database and the plugin name decode.
        #expect(decoded == 3)
        for length in 0..<32 { Self.expectThrows(Array(bytes[..<length]), Self.client) }
    }

    @Test("response: no protocol 4.1, missing NULs, lying lengths and NULL fields throw")
    func badResponses() {
        let lenenc: MySQLCapabilities = [.protocol41, .pluginAuthLenencClientData, .secureConnection]
        Self.expectThrows(Self.prefix([.secureConnection]) + Array("bob".utf8) + [0, 0], Self.response)
        Self.expectThrows(Self.prefix(lenenc) + Array("bob".utf8), Self.response)
        Self.expectThrows(Self.prefix(lenenc) + Array("bob".utf8) + [0, 0xFC, 0xFF, 0xFF, 1, 2], Self.response)
        Self.expectThrows(Self.prefix(lenenc) + Array("bob".utf8) + [0, 0xFB], Self.response)
        Self.expectThrows(Self.prefix([.protocol41, .secureConnection]) + Array("bob".utf8) + [0, 200, 1, 2, 3], Self.response)
        Self.expectThrows(Self.prefix([.protocol41]) + Array("bob".utf8) + [0, 1, 2, 3], Self.response)
        Self.expectThrows(Self.prefix(lenenc.union(.connectWithDB)) + Array("bob".utf8) + [0, 0] + Array("appdb".utf8), Self.response)
        Self.expectThrows(Self.prefix(lenenc.union(.pluginAuth)) + Array("bob".utf8) + [0, 0] + Array("mysql_native".utf8), Self.response)
        let attrs = lenenc.union(.connectAttrs)
        Self.expectThrows(Self.prefix(attrs) + Array("bob".utf8) + [0, 0, 0xFC, 0x00, 0x10, 1, 0x61], Self.response)
        Self.expectThrows(Self.prefix(attrs) + Array("bob".utf8) + [0, 0, 3, 1, 0x61, 5], Self.response)
        Self.expectThrows(Self.prefix(attrs) + Array("bob".utf8) + [0, 0, 2, 1, 0x61], Self.response)
        Self.expectThrows(Self.prefix(attrs) + Array("bob".utf8) + [0, 0, 3, 1, 0x61, 0xFB], Self.response)
        Self.expectThrows(Self.prefix(lenenc) + [0xC3, 0x28, 0, 0], Self.response)  // user name not UTF-8
    }

    @Test("an SSLRequest must be 32 bytes with CLIENT_SSL; 32 bytes without it is a truncated response")
    func badSSLRequests() {
        let ssl: MySQLCapabilities = [.protocol41, .ssl, .secureConnection]
        Self.expectThrows(Array(Self.prefix(ssl).dropLast()), Self.client)
        Self.expectThrows(Self.prefix([.protocol41, .secureConnection]), Self.client)
        Self.expectThrows(Self.prefix([.ssl, .secureConnection]), Self.client)
    }

    @Test("ERR: empty, wrong header, short code or state, invalid UTF-8 throw")
    func badErrors() {
        Self.expectThrows([], Self.error)
        Self.expectThrows([0x00, 0x15, 0x04], Self.error)
        Self.expectThrows([0xFF, 0x15], Self.error)
        Self.expectThrows([0xFF, 0x15, 0x04, 0x23, 0x32, 0x38], Self.error)
        Self.expectThrows([0xFF, 0x15, 0x04, 0x23] + Array("28000".utf8) + [0xC3, 0x28], Self.error)
    }

    @Test("OK: wrong header, truncated integers, lying session state length throw")
    func badOKs() {
        Self.expectThrows([], Self.ok)
        Self.expectThrows([0xFF, 0, 0, 2, 0, 0, 0], Self.ok)
        Self.expectThrows([0x00, 0xFC, 0x01], Self.ok)
        Self.expectThrows([0x00, 0xFB, 0, 2, 0, 0, 0], Self.ok)
        Self.expectThrows([0x00, 0, 0, 2, 0], Self.ok)
        Self.expectThrows([0x00, 0, 0, 2, 0x40, 0, 0, 0, 9, 1, 2], Self.okTracked)
        Self.expectThrows([0x00, 0, 0, 2, 0, 0, 0, 5, 0x61], Self.okTracked)
    }

    @Test("AuthSwitchRequest: empty, wrong header, plugin name without NUL throw")
    func badAuthSwitches() {
        Self.expectThrows([], Self.authSwitch)
        Self.expectThrows([0x01] + Array("mysql_native_password".utf8) + [0], Self.authSwitch)
        Self.expectThrows([0xFE] + Array("mysql_native_password".utf8), Self.authSwitch)
    }

    @Test("random bytes never crash any decoder")
    func randomBytes() {
        var generator = SplitMix64(seed: 0x5EED)
        var thrown = 0
        for _ in 0..<3000 {
            let count = Int(generator.next() % 80)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let buffer = ByteBuffer(bytes: bytes)
            for decode in [Self.greeting, Self.response, Self.client, Self.error, Self.ok, Self.okTracked, Self.authSwitch] {
                do { try decode(buffer) } catch { thrown += 1 }
            }
            _ = MySQLConnectionPhasePacket(payload: buffer)
            var framed = buffer
            var decoder = MySQLPacketDecoder(maximumPayload: 64)
            while (try? decoder.decode(&framed)) != nil {}
        }
        #expect(thrown > 0)
    }
}

/// A tiny deterministic generator so the random test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
