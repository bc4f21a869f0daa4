import NIOCore
import Testing
import WirePostgres

/// What PostgreSQL 15 really sent during authentication decodes to the expected requests and errors.
@Suite("Golden backend messages from PostgreSQL 15")
struct GoldenBackendTests {
    @Test("trust: AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery")
    func trustLogin() throws {
        let messages = try Golden.serverMessages("trustuser.server.bin")
        #expect(messages.types == "R" + String(repeating: "S", count: 13) + "KZTDCZ")
        #expect(try PostgresAuthenticationRequest(decodingBody: messages[0].body) == .ok)
        var auth = ByteBuffer()
        PostgresAuthenticationRequest.ok.write(into: &auth)
        #expect(Array(auth.readableBytesView) == (try Golden.bytes("trustuser.server.bin")).prefix(9).map { $0 })
        let parameterNames = messages.filter { $0.type == .ascii("S") }.compactMap { message -> String? in
            var body = message.body
            return body.readNullTerminatedString()
        }
        #expect(parameterNames.contains("server_version"))
        #expect(parameterNames.contains("client_encoding"))
        let keyData = try PostgresBackendKeyData(decodingBody: messages[14].body)
        #expect(keyData.processID > 0)
        #expect(keyData.secretKey.count == 4)
        #expect(messages[15].bodyBytes == [UInt8.ascii("I")])
    }

    @Test("scram role: AuthenticationSASL offers SCRAM-SHA-256")
    func saslOffer() throws {
        let messages = try Golden.serverMessages("alice-scram.server.bin")
        #expect(messages.types.hasPrefix("RRRR"))
        #expect(try PostgresAuthenticationRequest(decodingBody: messages[0].body) == .sasl(mechanisms: ["SCRAM-SHA-256"]))
        guard case .saslContinue(let serverFirst) = try PostgresAuthenticationRequest(decodingBody: messages[1].body) else {
            Issue.record("second message is not SASLContinue")
            return
        }
        #expect(String(decoding: serverFirst, as: UTF8.self).hasSuffix(",i=4096"))
        guard case .saslFinal(let serverFinal) = try PostgresAuthenticationRequest(decodingBody: messages[2].body) else {
            Issue.record("third message is not SASLFinal")
            return
        }
        #expect(serverFinal.starts(with: Array("v=".utf8)))
        #expect(try PostgresAuthenticationRequest(decodingBody: messages[3].body) == .ok)
    }

    @Test("md5 role: AuthenticationMD5Password with a 4-byte salt, then Ok")
    func md5Request() throws {
        let messages = try Golden.serverMessages("md5user.server.bin")
        guard case .md5Password(let salt) = try PostgresAuthenticationRequest(decodingBody: messages[0].body) else {
            Issue.record("first message is not AuthenticationMD5Password")
            return
        }
        #expect(salt.count == 4)
        #expect(messages[0].body.readableBytes == 8)
        #expect(try PostgresAuthenticationRequest(decodingBody: messages[1].body) == .ok)
    }

    @Test("md5 role: psql's PasswordMessage equals the computed MD5 answer for the captured salt")
    func md5Answer() throws {
        let server = try Golden.serverMessages("md5user.server.bin")
        guard case .md5Password(let salt) = try PostgresAuthenticationRequest(decodingBody: server[0].body) else {
            Issue.record("first message is not AuthenticationMD5Password")
            return
        }
        let (_, client) = try Golden.clientStream("md5user.client.bin")
        let expected = PostgresAuthenticationResponse.md5Password(user: "md5user", password: "md5-pw", salt: salt)
        var written = ByteBuffer()
        PostgresAuthenticationResponse.writePassword(expected, into: &written)
        var sent = ByteBuffer()
        client[0].write(into: &sent)
        #expect(written == sent)
        #expect(expected.hasPrefix("md5") && expected.count == 35)
    }

    @Test("wrong password: FATAL 28P01 with the server's text")
    func wrongPassword() throws {
        let messages = try Golden.serverMessages("alice-wrong-password.server.bin")
        #expect(messages.types == "RRE")
        let error = try PostgresErrorResponse(decodingBody: messages[2].body)
        #expect(error.severity == .fatal)
        #expect(error.sqlState == PostgresSQLState.invalidPassword)
        #expect(error.message == "password authentication failed for user \"alice\"")
        #expect(error.detail == nil)
        #expect(error.otherFields[.ascii("R")] == "auth_failed")
        #expect(error.fields[.ascii("F")] == "auth.c")
    }

    @Test("missing database: AuthenticationOk then FATAL 3D000")
    func missingDatabase() throws {
        let messages = try Golden.serverMessages("no-database.server.bin")
        #expect(messages.types == "RE")
        let error = try PostgresErrorResponse(decodingBody: messages[1].body)
        #expect(error.severity == .fatal)
        #expect(error.sqlState == PostgresSQLState.invalidCatalogName)
        #expect(error.message == "database \"no_such_database\" does not exist")
    }

    @Test("re-encoding a server's ErrorResponse gives its exact bytes (S V C M then F L R)")
    func errorRoundTrip() throws {
        for file in ["alice-wrong-password.server.bin", "no-database.server.bin"] {
            let messages = try Golden.serverMessages(file)
            let original = try #require(messages.last)
            let error = try PostgresErrorResponse(decodingBody: original.body)
            var written = ByteBuffer()
            error.write(into: &written)
            var expected = ByteBuffer()
            original.write(into: &expected)
            // The server writes F, L, R last; this writer sorts other fields by code, the same order here.
            #expect(written == expected)
            let decodedAgain = try #require(try Framing.first(&written))
            #expect(try PostgresErrorResponse(decodingBody: decodedAgain.body) == error)
        }
    }

    @Test("cancelled query: ERROR 57014 after the CancelRequest")
    func cancelled() throws {
        let messages = try Golden.serverMessages("cancel.server.bin")
        let error = try PostgresErrorResponse(decodingBody: try #require(messages.first { $0.type == .ascii("E") }).body)
        #expect(error.severity == .error)
        #expect(error.sqlState == PostgresSQLState.queryCanceled)
        #expect(error.message == "canceling statement due to user request")
    }
}
