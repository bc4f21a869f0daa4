import NIOCore
import Testing
import WireMySQL

/// What the real mariadb 10.11 client (libmariadb 3.3.20) and MariaDB 10.11.19 server exchanged.
@Suite("Golden connection phase from MariaDB 10.11")
struct GoldenConnectionTests {
    static let captures = ["alice", "alice-wrong-password", "alice-no-database", "tlsuser-ssl", "tlsuser-plain"]

    @Test("every server greeting decodes and re-encodes byte-identically", arguments: captures)
    func greeting(capture: String) throws {
        let packet = try Golden.packets("\(capture).server.bin")[0]
        #expect(packet.sequenceID == 0)
        let greeting = try MySQLHandshakeV10(decoding: packet.payload)
        #expect(greeting.serverVersion == "5.5.5-10.11.19-MariaDB-0+deb12u1")
        #expect(greeting.capabilities.rawValue == 0x81FF_FFFE)
        #expect(greeting.capabilities.isSuperset(of: [.protocol41, .ssl, .secureConnection, .pluginAuth, .connectAttrs, .sessionTrack]))
        #expect(!greeting.capabilities.contains(.longPassword))  // MariaDB: extended capabilities follow
        #expect(greeting.mariaDBExtendedCapabilities == 0x1D)
        #expect(greeting.characterSet == 8)
        #expect(greeting.statusFlags == 2)
        #expect(greeting.authPluginData.count == 20)
        #expect(!greeting.authPluginData.contains(0))
        #expect(greeting.authPluginName == "mysql_native_password")
        #expect(written(greeting.write) == packet.payload.bytes)
    }

    @Test("clearing CLIENT_SSL changes only that bit on the wire")
    func clearSSL() throws {
        let payload = try Golden.packets("alice.server.bin")[0].payload
        var greeting = try MySQLHandshakeV10(decoding: payload)
        greeting.capabilities.remove(.ssl)
        var expected = payload.bytes
        let offset = try #require(expected.firstIndex(of: 0)) + 1 + 4 + 8 + 1
        expected[offset + 1] &= ~0x08
        #expect(written(greeting.write) == expected)
    }

    @Test("the HandshakeResponse41 of `mariadb --skip-ssl -ualice appdb` decodes and re-encodes byte-identically")
    func handshakeResponse() throws {
        let packets = try Golden.packets("alice.client.bin")
        #expect(packets.map(\.sequenceID) == [1, 0, 0])
        guard case .response(let response) = try MySQLClientHandshake(decoding: packets[0].payload) else {
            Issue.record("expected a HandshakeResponse41")
            return
        }
        #expect(response.capabilities.rawValue == 0x00BF_A28C)
        #expect(!response.capabilities.contains(.ssl))
        #expect(response.maxPacketSize == 0x10_0000)  // 1 MiB, libmariadb's default
        #expect(response.characterSet == 33)
        #expect(response.mariaDBExtendedCapabilities == 0x1D)
        #expect(response.username == "alice")
        #expect(response.authResponse.count == 20)
        #expect(response.database == "appdb")
        #expect(response.authPluginName == "mysql_native_password")
        let attributes = try #require(response.connectAttributes)
        #expect(attributes.map(\.key) == ["_os", "_client_name", "_pid", "_client_version", "_platform", "program_name", "_server_host"])
        #expect(attributes.first { $0.key == "_client_name" }?.value == "libmariadb")
        #expect(attributes.first { $0.key == "_server_host" }?.value == "127.0.0.1")
        #expect(written(response.write) == packets[0].payload.bytes)
        #expect(packets[1].payload.bytes == [0x03] + Array("select 1".utf8))  // COM_QUERY
        #expect(packets[2].payload.bytes == [0x01])  // COM_QUIT
    }

    @Test("every captured HandshakeResponse41 round-trips", arguments: ["alice", "alice-wrong-password", "alice-no-database", "tlsuser-plain"])
    func responsesRoundTrip(capture: String) throws {
        let payload = try Golden.packets("\(capture).client.bin")[0].payload
        let response = try MySQLHandshakeResponse41(decoding: payload)
        #expect(written(response.write) == payload.bytes)
    }

    @Test("the server's OK after login decodes with session tracking and re-encodes byte-identically")
    func okPacket() throws {
        let packets = try Golden.packets("alice.server.bin")
        let ok = packets[1]
        #expect(ok.sequenceID == 2)
        #expect(MySQLConnectionPhasePacket(payload: ok.payload) == .ok)
        let negotiated = try MySQLHandshakeV10(decoding: packets[0].payload).capabilities
            .intersection(try MySQLHandshakeResponse41(decoding: try Golden.packets("alice.client.bin")[0].payload).capabilities)
        let packet = try MySQLOKPacket(decoding: ok.payload, capabilities: negotiated)
        #expect(packet.affectedRows == 0)
        #expect(packet.lastInsertID == 0)
        #expect(packet.statusFlags == 0x4002)  // autocommit, session state changed
        #expect(packet.warnings == 0)
        #expect(packet.info == "")
        // SESSION_TRACK_SCHEMA (1), 6 bytes: "appdb" length-encoded.
        #expect(packet.sessionStateChanges == [0x01, 0x06, 0x05] + Array("appdb".utf8))
        #expect(written { packet.write(into: &$0, capabilities: negotiated) } == ok.payload.bytes)
    }

    @Test("a wrong password gets ERR 1045 28000, re-encoded byte-identically")
    func wrongPassword() throws {
        let packets = try Golden.packets("alice-wrong-password.server.bin")
        #expect(packets.count == 2)
        let err = packets[1]
        #expect(err.sequenceID == 2)
        #expect(MySQLConnectionPhasePacket(payload: err.payload) == .error)
        let packet = try MySQLErrorPacket(decoding: err.payload)
        #expect(packet.code == MySQLErrorCode.accessDenied)
        #expect(packet.sqlState == "28000")
        #expect(packet.message == "Access denied for user 'alice'@'127.0.0.1' (using password: YES)")
        #expect(written(packet.write) == err.payload.bytes)
        let built = MySQLErrorPacket(code: 1045, sqlState: "28000", message: "Access denied for user 'alice'@'127.0.0.1' (using password: YES)")
        #expect(written(built.write) == err.payload.bytes)
    }

    @Test("a database alice may not use gets ERR 1044 42000, re-encoded byte-identically")
    func noDatabase() throws {
        let request = try MySQLHandshakeResponse41(decoding: try Golden.packets("alice-no-database.client.bin")[0].payload)
        #expect(request.database == "no_such_database")
        let err = try Golden.packets("alice-no-database.server.bin")[1]
        let packet = try MySQLErrorPacket(decoding: err.payload)
        #expect(packet.code == MySQLErrorCode.dbAccessDenied)
        #expect(packet.sqlState == "42000")
        #expect(packet.message == "Access denied for user 'alice'@'%' to database 'no_such_database'")
        #expect(written(packet.write) == err.payload.bytes)
    }

    @Test("a REQUIRE SSL user logging in without TLS gets ERR 1045")
    func tlsUserPlain() throws {
        let packet = try MySQLErrorPacket(decoding: try Golden.packets("tlsuser-plain.server.bin")[1].payload)
        #expect(packet.code == MySQLErrorCode.accessDenied)
        #expect(packet.message == "Access denied for user 'tlsuser'@'127.0.0.1' (using password: YES)")
    }

    @Test("`mariadb --ssl` sends a 32-byte SSLRequest, re-encoded byte-identically")
    func sslRequest() throws {
        let bytes = try Golden.bytes("tlsuser-ssl.client.bin")
        #expect(bytes.count == 36)
        let packets = try Golden.packets("tlsuser-ssl.client.bin")
        #expect(packets.count == 1)
        #expect(packets[0].sequenceID == 1)
        #expect(packets[0].payload.readableBytes == MySQLSSLRequest.payloadLength)
        guard case .sslRequest(let request) = try MySQLClientHandshake(decoding: packets[0].payload) else {
            Issue.record("expected an SSLRequest")
            return
        }
        #expect(request.capabilities.rawValue == 0x00BF_AA8C)
        #expect(request.capabilities.contains(.ssl))
        #expect(request.maxPacketSize == 0x10_0000)  // 1 MiB, libmariadb's default
        #expect(request.characterSet == 33)
        #expect(request.mariaDBExtendedCapabilities == 0x1D)
        #expect(written(request.write) == packets[0].payload.bytes)
        var framed = ByteBuffer()
        MySQLPacket(sequenceID: 1, payload: ByteBuffer(bytes: written(request.write))).write(into: &framed)
        #expect(framed.bytes == bytes)
    }

    @Test("every captured stream frames cleanly", arguments: captures.flatMap { ["\($0).client.bin", "\($0).server.bin"] })
    func streamsFrame(name: String) throws {
        let packets = try Golden.packets(name)
        #expect(!packets.isEmpty)
        var rewritten = ByteBuffer()
        for packet in packets { packet.write(into: &rewritten) }
        #expect(rewritten.bytes == (try Golden.bytes(name)))
    }
}
