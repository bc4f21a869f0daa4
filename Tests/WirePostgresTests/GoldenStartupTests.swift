import NIOCore
import Testing
import WirePostgres

/// The first packets psql 15 really sent decode to what it was told to send.
@Suite("Golden startup packets from psql 15")
struct GoldenStartupTests {
    @Test("sslmode=prefer starts with an SSLRequest and the server answers S")
    func sslRequest() throws {
        var buffer = try Golden.buffer("ssl-prefer.client.bin")
        #expect(try PostgresStartupDecoder.decode(&buffer) == .sslRequest)
        #expect(buffer.readableBytes == 0)
        #expect(try Golden.bytes("ssl-prefer.server.bin") == [PostgresSSLResponse.supported.rawValue])
        var written = ByteBuffer()
        PostgresStartupPacket.sslRequest.write(into: &written)
        #expect(Array(written.readableBytesView) == (try Golden.bytes("ssl-prefer.client.bin")))
    }

    @Test("plain StartupMessage carries psql's parameters in wire order")
    func startupMessage() throws {
        let (packet, messages) = try Golden.clientStream("trustuser.client.bin")
        guard case .startup(let startup) = packet else {
            Issue.record("expected a StartupMessage, got \(packet)")
            return
        }
        #expect(startup.protocolVersion == .v3_0)
        #expect(startup.parameters.map(\.name) == ["user", "database", "application_name", "client_encoding"])
        #expect(startup.user == "trustuser")
        #expect(startup.database == "appdb")
        #expect(startup["application_name"] == "psql")
        #expect(startup["client_encoding"] == "UTF8")
        #expect(messages.types == "QX")
    }

    @Test("re-encoding psql's StartupMessage gives its exact bytes")
    func startupRoundTrip() throws {
        let bytes = try Golden.bytes("trustuser.client.bin")
        let (packet, _) = try Golden.clientStream("trustuser.client.bin")
        var written = ByteBuffer()
        packet.write(into: &written)
        #expect(Array(written.readableBytesView) == Array(bytes.prefix(written.readableBytes)))
        #expect(written.readableBytes == Int(bytes[3]))
    }

    @Test("every client stream starts with a StartupMessage naming its user", arguments: [
        ("alice-scram.client.bin", "alice", "appdb"),
        ("alice-wrong-password.client.bin", "alice", "appdb"),
        ("md5user.client.bin", "md5user", "appdb"),
        ("no-database.client.bin", "trustuser", "no_such_database"),
        ("cancel.client.bin", "trustuser", "appdb"),
    ])
    func startupUsers(file: String, user: String, database: String) throws {
        let (packet, _) = try Golden.clientStream(file)
        guard case .startup(let startup) = packet else {
            Issue.record("expected a StartupMessage in \(file)")
            return
        }
        #expect(startup.user == user)
        #expect(startup.database == database)
    }

    @Test("psql's CancelRequest names the backend of the cancelled session")
    func cancelRequest() throws {
        var buffer = try Golden.buffer("cancel-2.client.bin")
        let packet = try PostgresStartupDecoder.decode(&buffer)
        #expect(buffer.readableBytes == 0)
        guard case .cancelRequest(let cancel) = packet else {
            Issue.record("expected a CancelRequest, got \(String(describing: packet))")
            return
        }
        let keyData = try #require(try Golden.serverMessages("cancel.server.bin").first { $0.type == .ascii("K") })
        let key = try PostgresBackendKeyData(decodingBody: keyData.body)
        #expect(cancel.secretKey.count == 4)
        #expect(cancel == key.cancelRequest)
        var written = ByteBuffer()
        cancel.write(into: &written)
        #expect(Array(written.readableBytesView) == (try Golden.bytes("cancel-2.client.bin")))
    }

    @Test("psql's streams are split correctly whatever the chunking", arguments: [
        "trustuser.client.bin", "alice-scram.client.bin", "md5user.client.bin", "cancel-2.client.bin",
    ])
    func chunked(file: String) throws {
        let bytes = try Golden.bytes(file)
        let (whole, _) = try Golden.clientStream(file)
        for split in 0...bytes.count {
            var buffer = ByteBuffer(bytes: bytes.prefix(split))
            let packet = try PostgresStartupDecoder.decode(&buffer)
            if packet == nil {
                #expect(buffer.readableBytes == split, "nothing consumed at split \(split)")
                buffer.writeBytes(bytes.dropFirst(split))
                #expect(try PostgresStartupDecoder.decode(&buffer) == whole)
            } else {
                #expect(packet == whole)
            }
        }
    }
}
