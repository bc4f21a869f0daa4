import NIOCore
import Testing
import WireMySQL

@Suite("OK, ERR, AuthSwitch and classification")
struct PacketCodecTests {
    @Test("ERR writes 0xFF, code LE, '#', state, message")
    func errorLayout() throws {
        let packet = MySQLErrorPacket(code: MySQLErrorCode.connectionHostError, sqlState: "HY000", message: "no backend")
        let bytes = written(packet.write)
        #expect(bytes == [0xFF, 0xD3, 0x07, 0x23] + Array("HY000no backend".utf8))
        #expect(try MySQLErrorPacket(decoding: ByteBuffer(bytes: bytes)) == packet)
    }

    @Test("ERR without the '#' marker (pre-4.1) keeps an empty state and round-trips")
    func errorWithoutState() throws {
        let bytes: [UInt8] = [0xFF, 0x6A, 0x04] + Array("Host is not allowed".utf8)
        let packet = try MySQLErrorPacket(decoding: ByteBuffer(bytes: bytes))
        #expect(packet.code == 1130)
        #expect(packet.sqlState == "")
        #expect(packet.message == "Host is not allowed")
        #expect(written(packet.write) == bytes)
    }

    @Test("a state that is not 5 bytes is written as HY000")
    func errorBadState() {
        let bytes = written(MySQLErrorPacket(code: 1, sqlState: "28", message: "").write)
        #expect(bytes == [0xFF, 1, 0, 0x23] + Array("HY000".utf8))
    }

    @Test("OK without session tracking: info is the rest of the packet")
    func okPlain() throws {
        let packet = MySQLOKPacket(affectedRows: 300, lastInsertID: 0x1_0000, statusFlags: 2, warnings: 1, info: "Rows matched: 1")
        let bytes = written { packet.write(into: &$0) }
        #expect(bytes == [0x00, 0xFC, 0x2C, 0x01, 0xFD, 0x00, 0x00, 0x01, 0x02, 0x00, 0x01, 0x00] + Array("Rows matched: 1".utf8))
        #expect(try MySQLOKPacket(decoding: ByteBuffer(bytes: bytes)) == packet)
    }

    @Test("OK with session tracking and nothing after the warnings round-trips")
    func okSessionTrackShort() throws {
        let bytes: [UInt8] = [0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00]
        let packet = try MySQLOKPacket(decoding: ByteBuffer(bytes: bytes), capabilities: [.protocol41, .sessionTrack])
        #expect(packet.affectedRows == 1)
        #expect(written { packet.write(into: &$0, capabilities: [.protocol41, .sessionTrack]) } == bytes)
    }

    @Test("AuthSwitchRequest round-trips and exposes the nonce without its NUL")
    func authSwitch() throws {
        let bytes: [UInt8] = [0xFE] + Array("mysql_native_password".utf8) + [0] + Array(UInt8(1)...20) + [0]
        let request = try MySQLAuthSwitchRequest(decoding: ByteBuffer(bytes: bytes))
        #expect(request.pluginName == "mysql_native_password")
        #expect(request.pluginData.count == 21)
        #expect(request.nonce == Array(UInt8(1)...20))
        #expect(written(request.write) == bytes)
        #expect(MySQLConnectionPhasePacket(payload: ByteBuffer(bytes: bytes)) == .authSwitch)
    }

    static let classificationCases: [([UInt8], MySQLConnectionPhasePacket)] = [
        ([], .other),
        ([0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00], .ok),
        ([0xFF, 0x15, 0x04], .error),
        ([0xFE, 0x00, 0x00, 0x02, 0x00], .other),  // old EOF: < 9 bytes
        ([0xFE, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x00], .authSwitch),
        ([0x01, 0x03], .authMoreData),  // caching_sha2 fast auth success
        ([0x0A, 0x38], .other),
    ]

    @Test("connection-phase payloads are classified by their first byte", arguments: classificationCases)
    func classification(bytes: [UInt8], expected: MySQLConnectionPhasePacket) {
        #expect(MySQLConnectionPhasePacket(payload: ByteBuffer(bytes: bytes)) == expected)
    }

    static let authResponseCases: [(MySQLCapabilities, [UInt8])] = [
        ([.protocol41, .pluginAuthLenencClientData, .secureConnection], [3, 1, 2, 3]),
        ([.protocol41, .secureConnection], [3, 1, 2, 3]),
        ([.protocol41], [1, 2, 3, 0]),
    ]

    @Test("HandshakeResponse41 writes the auth response per capabilities", arguments: authResponseCases)
    func authResponseEncoding(capabilities: MySQLCapabilities, encoded: [UInt8]) throws {
        let response = MySQLHandshakeResponse41(
            capabilities: capabilities, maxPacketSize: 1 << 24, characterSet: 45, username: "bob", authResponse: [1, 2, 3]
        )
        let bytes = written(response.write)
        #expect(Array(bytes[32...]) == Array("bob".utf8) + [0] + encoded)
        #expect(try MySQLHandshakeResponse41(decoding: ByteBuffer(bytes: bytes)) == response)
    }

    @Test("a long auth response uses a multi-byte length with lenenc client data")
    func longAuthResponse() throws {
        let response = MySQLHandshakeResponse41(
            capabilities: [.protocol41, .pluginAuthLenencClientData, .connectWithDB, .pluginAuth, .connectAttrs, .zstdCompressionAlgorithm],
            maxPacketSize: 1 << 24, characterSet: 45, mariaDBExtendedCapabilities: 0, username: "bob",
            authResponse: Array(repeating: 7, count: 300), database: "appdb", authPluginName: "sha256_password",
            connectAttributes: [MySQLConnectAttribute(key: "k", value: String(repeating: "v", count: 260))], zstdCompressionLevel: 3
        )
        let bytes = written(response.write)
        #expect(Array(bytes[36...38]) == [0xFC, 0x2C, 0x01])
        #expect(try MySQLHandshakeResponse41(decoding: ByteBuffer(bytes: bytes)) == response)
        #expect(try MySQLClientHandshake(decoding: ByteBuffer(bytes: bytes)) == .response(response))
    }
}
