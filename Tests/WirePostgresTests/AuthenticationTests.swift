import NIOCore
import Testing
import WirePostgres

/// Authentication request bodies, BackendKeyData and the frontend's answers.
@Suite("Authentication messages")
struct AuthenticationTests {
    static func request(_ bytes: [UInt8]) throws -> PostgresAuthenticationRequest {
        try PostgresAuthenticationRequest(decodingBody: ByteBuffer(bytes: bytes))
    }

    @Test("every request kind decodes")
    func kinds() throws {
        #expect(try Self.request(Bytes.int32(0)) == .ok)
        #expect(try Self.request(Bytes.int32(3)) == .cleartextPassword)
        #expect(try Self.request(Bytes.int32(5) + [1, 2, 3, 4]) == .md5Password(salt: [1, 2, 3, 4]))
        #expect(try Self.request(Bytes.int32(10) + Bytes.cString("SCRAM-SHA-256-PLUS") + Bytes.cString("SCRAM-SHA-256") + [0])
            == .sasl(mechanisms: ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]))
        #expect(try Self.request(Bytes.int32(11) + Array("r=x".utf8)) == .saslContinue(Array("r=x".utf8)))
        #expect(try Self.request(Bytes.int32(12) + Array("v=x".utf8)) == .saslFinal(Array("v=x".utf8)))
        #expect(try Self.request(Bytes.int32(7)) == .other(code: 7))
    }

    @Test("malformed requests are rejected", arguments: [
        [0, 0, 0],
        Bytes.int32(0) + [0],
        Bytes.int32(3) + [1],
        Bytes.int32(5) + [1, 2, 3],
        Bytes.int32(5) + [1, 2, 3, 4, 5],
        Bytes.int32(10) + Bytes.cString("SCRAM-SHA-256"),
        Bytes.int32(10) + Array("SCRAM".utf8),
        Bytes.int32(10) + Bytes.cString("SCRAM-SHA-256") + [0, 1],
    ])
    func malformed(bytes: [UInt8]) {
        #expect(throws: PostgresWireError.self) { try Self.request(bytes) }
    }

    @Test("written requests decode to themselves", arguments: [
        PostgresAuthenticationRequest.ok, .cleartextPassword, .md5Password(salt: [9, 8, 7, 6]),
        .sasl(mechanisms: ["SCRAM-SHA-256"]), .saslContinue([1, 2]), .saslFinal([]), .other(code: 9),
    ])
    func roundTrip(request: PostgresAuthenticationRequest) throws {
        var buffer = ByteBuffer()
        request.write(into: &buffer)
        let message = try #require(try Framing.first(&buffer))
        #expect(message.type == PostgresMessageType.authentication)
        #expect(try PostgresAuthenticationRequest(decodingBody: message.body) == request)
    }

    @Test("BackendKeyData: 4-byte and 32-byte keys decode; empty and 257-byte keys do not")
    func backendKeyData() throws {
        for length in [4, 32, 256] {
            let key = PostgresBackendKeyData(processID: 77, secretKey: Array(repeating: 5, count: length))
            var buffer = ByteBuffer()
            key.write(into: &buffer)
            let message = try #require(try Framing.first(&buffer))
            #expect(try PostgresBackendKeyData(decodingBody: message.body) == key)
        }
        for bytes in [Bytes.int32(1), [0, 0], Bytes.int32(1) + Array(repeating: 1, count: 257)] {
            #expect(throws: PostgresWireError.self) { try PostgresBackendKeyData(decodingBody: ByteBuffer(bytes: bytes)) }
        }
    }

    @Test("MD5 answer matches PostgreSQL's documented construction")
    func md5() {
        // md5(md5("secret" + "bob") hex + salt) computed with Python's hashlib.
        let answer = PostgresAuthenticationResponse.md5Password(user: "bob", password: "secret", salt: [1, 2, 3, 4])
        #expect(answer == "md5f21dfe33ff3a9e03dbc3e008251fe5cc")
    }

    @Test("SSL answer bytes")
    func sslAnswer() {
        #expect(PostgresSSLResponse.supported.rawValue == UInt8(ascii: "S"))
        #expect(PostgresSSLResponse.notSupported.rawValue == UInt8(ascii: "N"))
    }
}
