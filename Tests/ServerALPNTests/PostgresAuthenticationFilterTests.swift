import NIOCore
import Testing

@testable import ServerALPN

/// The server's authentication messages on their way to the client: SCRAM-SHA-256-PLUS is
/// taken out of the SASL offer, every other byte passes as it came, and the filter ends at
/// AuthenticationOk or ErrorResponse.
@Suite("PostgresAuthenticationFilter")
struct PostgresAuthenticationFilterTests {
    /// AuthenticationSASL offering these mechanisms.
    static func saslOffer(_ mechanisms: [String]) -> [UInt8] {
        PGBytes.message("R", PGBytes.int32(10) + mechanisms.flatMap(PGBytes.cString) + [0])
    }

    /// The captured SCRAM exchange with its offer replaced by one that lists PLUS first, as a
    /// server with TLS on sends it. The golden's offer is 24 bytes.
    static func scramWithPlus() throws -> [UInt8] {
        let golden = try PGGolden.bytes("alice-scram.server.bin")
        return saslOffer(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]) + golden[24...]
    }

    static func run(_ chunks: [[UInt8]]) throws -> (output: [UInt8], finished: Bool) {
        var filter = PostgresAuthenticationFilter()
        var output: [UInt8] = []
        for chunk in chunks { output += try filter.received(ByteBuffer(bytes: chunk)).bytes }
        return (output, filter.finished)
    }

    @Test("the captured offer is the hand-built one without PLUS")
    func goldenOfferMatchesBuilder() throws {
        let golden = try PGGolden.bytes("alice-scram.server.bin")
        #expect(Array(golden[..<24]) == Self.saslOffer(["SCRAM-SHA-256"]))
    }

    @Test("[SCRAM-SHA-256-PLUS, SCRAM-SHA-256] becomes [SCRAM-SHA-256] with the right length")
    func plusRemoved() throws {
        var filter = PostgresAuthenticationFilter()
        let output = try filter.received(ByteBuffer(bytes: Self.saslOffer(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]))).bytes
        let messages = try #require(PGMessageView.split(output))
        #expect(messages.count == 1)
        #expect(messages.first?.saslMechanisms == ["SCRAM-SHA-256"])
        #expect(output == Self.saslOffer(["SCRAM-SHA-256"]))
        #expect(Array(output[1..<5]) == PGBytes.int32(23))
        #expect(!filter.finished)
    }

    @Test("the rest of the exchange after a PLUS offer comes out as the captured server bytes")
    func wholeExchangeWithPlus() throws {
        let result = try Self.run([try Self.scramWithPlus()])
        #expect(result.output == (try PGGolden.bytes("alice-scram.server.bin")))
        #expect(result.finished)
    }

    @Test("an offer without PLUS passes byte for byte (captured SCRAM exchange)")
    func offerWithoutPlusUnchanged() throws {
        let golden = try PGGolden.bytes("alice-scram.server.bin")
        let result = try Self.run([golden])
        #expect(result.output == golden)
        #expect(result.finished)
    }

    @Test("an offer of PLUS only passes unchanged rather than offering nothing")
    func onlyPlusUnchanged() throws {
        let offer = Self.saslOffer(["SCRAM-SHA-256-PLUS"])
        #expect(try Self.run([offer]).output == offer)
    }

    @Test("PLUS is removed wherever it is in the list, order of the others kept")
    func plusInTheMiddle() throws {
        let output = try Self.run([Self.saslOffer(["X-ONE", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "OTHER-PLUS"])]).output
        #expect(output == Self.saslOffer(["X-ONE", "SCRAM-SHA-256"]))
    }

    @Test("an MD5 request passes, and the captured MD5 session passes byte for byte")
    func md5Unchanged() throws {
        let golden = try PGGolden.bytes("md5user.server.bin")
        var filter = PostgresAuthenticationFilter()
        let md5Request = Array(golden[..<13])
        #expect(try filter.received(ByteBuffer(bytes: md5Request)).bytes == md5Request)
        #expect(!filter.finished)
        #expect(try filter.received(ByteBuffer(bytes: Array(golden[13...]))).bytes == Array(golden[13...]))
        #expect(filter.finished)
    }

    @Test("after AuthenticationOk everything passes unchanged, even garbage")
    func afterOkEverythingPasses() throws {
        let golden = try PGGolden.bytes("trustuser.server.bin")
        let garbage: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x52]
        var filter = PostgresAuthenticationFilter()
        #expect(try filter.received(ByteBuffer(bytes: golden + garbage)).bytes == golden + garbage)
        #expect(filter.finished)
        // Not parsed any more: an oversize length and a PLUS offer pass as they are.
        let late = [UInt8(ascii: "R")] + PGBytes.int32(1 << 30) + Self.saslOffer(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"])
        #expect(try filter.received(ByteBuffer(bytes: late)).bytes == late)
    }

    @Test("AuthenticationOk alone finishes the filter; what follows it in the read is passed too")
    func okFinishes() throws {
        let ok = PGBytes.message("R", PGBytes.int32(0))
        let ready = PGBytes.message("Z", [UInt8(ascii: "I")])
        var filter = PostgresAuthenticationFilter()
        #expect(try filter.received(ByteBuffer(bytes: ok + ready)).bytes == ok + ready)
        #expect(filter.finished)
    }

    @Test("an ErrorResponse ends the filter (captured wrong password) and what follows passes")
    func errorResponseEnds() throws {
        let golden = try PGGolden.bytes("alice-wrong-password.server.bin")
        let after = Self.saslOffer(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"])
        let result = try Self.run([golden, after])
        #expect(result.finished)
        #expect(result.output == golden + after)
    }

    @Test("an ErrorResponse before any authentication request ends the filter")
    func errorFirst() throws {
        let error = PGBytes.message("E", Array("SFATAL\0VFATAL\0C53300\0Mtoo many\0\0".utf8))
        let result = try Self.run([error + [0xDE, 0xAD]])
        #expect(result.finished)
        #expect(result.output == error + [0xDE, 0xAD])
    }

    @Test("other messages during authentication (NoticeResponse) pass and do not end the filter")
    func noticePasses() throws {
        let notice = PGBytes.message("N", Array("SNOTICE\0VNOTICE\0C00000\0Mhello\0\0".utf8))
        let result = try Self.run([notice])
        #expect(result.output == notice)
        #expect(!result.finished)
    }

    @Test("a length over 64 KiB throws as soon as it is readable")
    func oversizeThrows() {
        var filter = PostgresAuthenticationFilter()
        let header = [UInt8(ascii: "R")] + PGBytes.int32(Int32(PostgresAuthenticationFilter.maximumMessageLength + 1))
        #expect(throws: (any Error).self) { _ = try filter.received(ByteBuffer(bytes: header)) }
    }

    @Test("a length of exactly 64 KiB waits for the body")
    func maximumLengthWaits() throws {
        var filter = PostgresAuthenticationFilter()
        let header = [UInt8(ascii: "R")] + PGBytes.int32(Int32(PostgresAuthenticationFilter.maximumMessageLength))
        #expect(try filter.received(ByteBuffer(bytes: header)).bytes.isEmpty)
        #expect(!filter.finished)
    }

    @Test("a malformed authentication request throws", arguments: [
        PGBytes.message("R", PGBytes.int32(0) + [0]),                       // Ok with a trailing byte
        PGBytes.message("R", PGBytes.int32(10) + PGBytes.cString("SCRAM-SHA-256")),  // list not terminated
        PGBytes.message("R", [0, 0]),                                       // shorter than its code
        [UInt8(ascii: "R")] + PGBytes.int32(3),                             // length below 4
    ])
    func malformedThrows(bytes: [UInt8]) {
        #expect(throws: (any Error).self) { _ = try Self.run([bytes]) }
    }
}
