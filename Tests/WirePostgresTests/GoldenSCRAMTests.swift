import NIOCore
import Testing
import WirePostgres

/// The SCRAM client reproduces psql's real proof from the captured nonces and salt, and accepts
/// the real server's signature.
@Suite("Golden SCRAM exchange (psql 15 / PostgreSQL 15)")
struct GoldenSCRAMTests {
    struct Exchange {
        var clientFirst: String
        var clientFinal: String
        var serverFirst: String
        var serverFinal: String
    }

    static func exchange(_ prefix: String) throws -> Exchange {
        let (_, client) = try Golden.clientStream("\(prefix).client.bin")
        let server = try Golden.serverMessages("\(prefix).server.bin")
        var initial = client[0].body
        let mechanism = initial.readNullTerminatedString()
        #expect(mechanism == SCRAMSHA256Client.mechanism)
        let readLength = initial.readInteger(as: Int32.self)
        let length = try #require(readLength)
        #expect(Int(length) == initial.readableBytes)
        let clientFirst = String(decoding: initial.readableBytesView, as: UTF8.self)
        let clientFinal = String(decoding: client[1].body.readableBytesView, as: UTF8.self)
        guard case .saslContinue(let serverFirst) = try PostgresAuthenticationRequest(decodingBody: server[1].body) else {
            throw PostgresWireError("no SASLContinue")
        }
        var serverFinal: [UInt8] = []
        if server.count > 2, case .saslFinal(let final) = try PostgresAuthenticationRequest(decodingBody: server[2].body) {
            serverFinal = final
        }
        return Exchange(clientFirst: clientFirst, clientFinal: clientFinal,
                        serverFirst: String(decoding: serverFirst, as: UTF8.self),
                        serverFinal: String(decoding: serverFinal, as: UTF8.self))
    }

    static func nonce(of clientFirst: String) throws -> String {
        let prefix = "n,,n=,r="
        #expect(clientFirst.hasPrefix(prefix), "libpq sends an empty SCRAM user name")
        return String(clientFirst.dropFirst(prefix.count))
    }

    @Test("client-final equals psql's and the server signature verifies")
    func reproducesPsql() throws {
        let exchange = try Self.exchange("alice-scram")
        var client = SCRAMSHA256Client(username: "", password: "alice-pw", clientNonce: try Self.nonce(of: exchange.clientFirst))
        #expect(client.clientFirstMessage() == exchange.clientFirst)
        #expect(try client.clientFinalMessage(serverFirst: exchange.serverFirst) == exchange.clientFinal)
        try client.verify(serverFinal: exchange.serverFinal)
    }

    @Test("psql's SASL messages re-encode to their exact bytes")
    func framesRoundTrip() throws {
        let exchange = try Self.exchange("alice-scram")
        let (_, client) = try Golden.clientStream("alice-scram.client.bin")
        var initial = ByteBuffer()
        PostgresAuthenticationResponse.writeSASLInitialResponse(
            mechanism: SCRAMSHA256Client.mechanism, data: Array(exchange.clientFirst.utf8), into: &initial)
        var final = ByteBuffer()
        PostgresAuthenticationResponse.writeSASLResponse(Array(exchange.clientFinal.utf8), into: &final)
        var expectedInitial = ByteBuffer(), expectedFinal = ByteBuffer()
        client[0].write(into: &expectedInitial)
        client[1].write(into: &expectedFinal)
        #expect(initial == expectedInitial)
        #expect(final == expectedFinal)
    }

    @Test("with the wrong password the proof differs from what the server accepted")
    func wrongPasswordDiffers() throws {
        let exchange = try Self.exchange("alice-scram")
        var client = SCRAMSHA256Client(username: "", password: "alice-pw2", clientNonce: try Self.nonce(of: exchange.clientFirst))
        _ = client.clientFirstMessage()
        #expect(try client.clientFinalMessage(serverFirst: exchange.serverFirst) != exchange.clientFinal)
        #expect(throws: PostgresWireError.self) { try client.verify(serverFinal: exchange.serverFinal) }
    }

    @Test("the wrong-password capture: psql's proof is what that wrong password gives")
    func wrongPasswordCapture() throws {
        let exchange = try Self.exchange("alice-wrong-password")
        #expect(exchange.serverFinal.isEmpty)
        var client = SCRAMSHA256Client(username: "", password: "not-alices-password", clientNonce: try Self.nonce(of: exchange.clientFirst))
        _ = client.clientFirstMessage()
        #expect(try client.clientFinalMessage(serverFirst: exchange.serverFirst) == exchange.clientFinal)
    }
}
