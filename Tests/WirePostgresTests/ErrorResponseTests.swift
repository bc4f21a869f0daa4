import NIOCore
import Testing
import WirePostgres

/// ErrorResponse / NoticeResponse writer and parser.
@Suite("ErrorResponse")
struct ErrorResponseTests {
    @Test("writer golden bytes, built by hand from the protocol documentation")
    func golden() {
        let error = PostgresErrorResponse(sqlState: "28000", message: "no", detail: "d", hint: "h")
        var buffer = ByteBuffer()
        error.write(into: &buffer)
        let fields: [UInt8] = Array("SFATAL\0VFATAL\0C28000\0Mno\0Dd\0Hh\0\0".utf8)
        let expected: [UInt8] = [0x45, 0, 0, 0, 36] + fields  // 'E', length 4 + 32 field bytes
        #expect(fields.count == 32)
        #expect(Array(buffer.readableBytesView) == expected)
    }

    @Test("without detail and hint only S, V, C, M are written; notices use N")
    func minimal() {
        let error = PostgresErrorResponse(severity: .error, sqlState: "57014", message: "stop")
        var buffer = ByteBuffer()
        error.writeNotice(into: &buffer)
        let fields: [UInt8] = Array("SERROR\0VERROR\0C57014\0Mstop\0\0".utf8)
        #expect(Array(buffer.readableBytesView) == [0x4E] + Bytes.int32(Int32(4 + fields.count)) + fields)
    }

    @Test("round trip through the message decoder and the body parser", arguments: [
        PostgresErrorResponse(sqlState: PostgresSQLState.invalidAuthorizationSpecification,
                              message: "database user 'bob' not allowed by certificate (allowed: alice)",
                              hint: "ask for a certificate for bob"),
        PostgresErrorResponse(severity: .warning, sqlState: "01000", message: "ünïcödé ✓", detail: ""),
        PostgresErrorResponse(severity: .panic, sqlState: "XX000", message: ""),
    ])
    func roundTrip(error: PostgresErrorResponse) throws {
        var buffer = ByteBuffer()
        error.write(into: &buffer)
        var decoder = PostgresMessageDecoder()
        let message = try #require(try decoder.decode(&buffer))
        #expect(message.type == .ascii("E"))
        #expect(try PostgresErrorResponse(decodingBody: message.body) == error)
    }

    @Test("other fields survive a round trip")
    func otherFields() throws {
        var error = PostgresErrorResponse(sqlState: "42P01", message: "x")
        error.otherFields = [.ascii("P"): "15", .ascii("R"): "parserOpenTable"]
        var buffer = ByteBuffer()
        error.write(into: &buffer)
        let message = try #require(try Framing.first(&buffer))
        let decoded = try PostgresErrorResponse(decodingBody: message.body)
        #expect(decoded == error)
        #expect(decoded.fields[.ascii("P")] == "15")
        #expect(decoded.fields[.ascii("S")] == "FATAL")
    }

    @Test("V wins over a localized S")
    func localized() throws {
        let body = ByteBuffer(bytes: Array("SFATAL-LOCALISÉ\0VFATAL\0C28P01\0Mnon\0\0".utf8))
        #expect(try PostgresErrorResponse(decodingBody: body).severity == .fatal)
    }

    @Test("malformed bodies are rejected", arguments: [
        ("SFATAL\0C28000\0Mno\0", "not terminated"),
        ("SFATAL\0C28000\0Mno", "not NUL-terminated"),
        ("C28000\0Mno\0\0", "no severity"),
        ("SBOOM\0C28000\0Mno\0\0", "unknown severity"),
        ("SERROR\0Mno\0\0", "no SQLSTATE"),
        ("SERROR\0C28000\0\0", "no message"),
        ("SERROR\0C28000\0Mno\0\0X", "follow the error response terminator"),
        ("", "not terminated"),
    ])
    func malformed(text: String, reason: String) {
        let error = #expect(throws: PostgresWireError.self) {
            try PostgresErrorResponse(decodingBody: ByteBuffer(bytes: Array(text.utf8)))
        }
        #expect(error?.message.contains(reason) == true, "got \(String(describing: error))")
    }

    @Test("invalid UTF-8 in a field is rejected")
    func invalidUTF8() {
        let body = ByteBuffer(bytes: Array("SERROR\0C28000\0M".utf8) + [0xE2, 0x82] + [0, 0])
        #expect(throws: PostgresWireError.self) { try PostgresErrorResponse(decodingBody: body) }
    }
}
