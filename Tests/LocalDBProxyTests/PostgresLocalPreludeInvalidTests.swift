import Testing
import WirePostgres

@testable import LocalDBProxy

/// Malformed first packets end the connection with an 08P01 ErrorResponse that says what was
/// wrong; lengths are judged as soon as their 4 bytes are here.
@Suite("PostgresLocalPrelude: invalid packets")
struct PostgresLocalPreludeInvalidTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "length 7", bytes: Packet.int32(7), message: "startup packet length 7 is below the minimum of 8"),
        Case(name: "length 0", bytes: Packet.int32(0), message: "startup packet length 0 is below the minimum of 8"),
        Case(name: "length -1", bytes: [0xFF, 0xFF, 0xFF, 0xFF], message: "startup packet length -1 is below the minimum of 8"),
        Case(name: "length 10001", bytes: Packet.int32(10001), message: "startup packet length 10001 exceeds the maximum of 10000"),
        Case(name: "length 0x7fffffff", bytes: Packet.int32(.max), message: "exceeds the maximum of 10000"),
        Case(name: "SSLRequest of 12 bytes", bytes: Packet.int32(12) + Packet.int32(80_877_103) + [0, 0, 0, 0],
             message: "SSLRequest must be 8 bytes long, got 12"),
        Case(name: "GSSENCRequest of 9 bytes", bytes: Packet.int32(9) + Packet.int32(80_877_104) + [0],
             message: "GSSENCRequest must be 8 bytes long, got 9"),
        Case(name: "protocol 2.0", bytes: Packet.int32(9) + Packet.int32(0x0002_0000) + [0],
             message: "unsupported frontend protocol"),
        Case(name: "unknown request 1234/9999", bytes: Packet.int32(8) + Packet.int32(1234 << 16 | 9999),
             message: "unknown startup request code 1234/9999"),
        Case(name: "CancelRequest without key", bytes: Packet.int32(12) + Packet.int32(80_877_102) + Packet.int32(42),
             message: "CancelRequest secret key is 0 bytes"),
    ]

    @Test("an invalid first packet fails with 08P01 and says why", arguments: cases, [false, true])
    func invalidFirstPacket(invalid: Case, localTLS: Bool) throws {
        var driver = LocalPreludeDriver(localTLS: localTLS)
        driver.feed(invalid.bytes)
        #expect(driver.events.count == 1)
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
        #expect(error.severity == .fatal)
        #expect(error.message.hasPrefix("invalid startup packet: "))
        #expect(error.message.contains(invalid.message))
        #expect(driver.upstream.isEmpty)
    }

    @Test("an invalid packet after SSLRequest N fails the same way", arguments: cases)
    func invalidAfterSSLRequest(invalid: Case) throws {
        var driver = LocalPreludeDriver(localTLS: false)
        driver.feed(Packet.sslRequest + invalid.bytes)
        #expect(driver.events.first == .reply(Expected.answerN))
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
        #expect(error.message.contains(invalid.message))
    }

    @Test("an invalid packet inside local TLS fails the same way", arguments: cases)
    func invalidInsideTLS(invalid: Case) throws {
        var driver = LocalPreludeDriver(localTLS: true)
        driver.feed(Packet.sslRequest)
        driver.handshakeDone()
        driver.feed(invalid.bytes)
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
        #expect(error.message.contains(invalid.message))
    }

    @Test("the largest allowed length (10000) waits for the body instead of failing")
    func largestLengthWaits() {
        var driver = LocalPreludeDriver(localTLS: false)
        driver.feed(Packet.int32(10000) + Packet.int32(0x0003_0000))
        #expect(driver.events.isEmpty)
    }

    @Test("fewer than 4 bytes of a bad length wait; the fourth byte fails")
    func lengthJudgedAtFourBytes() {
        var driver = LocalPreludeDriver(localTLS: false)
        driver.feed([0x00, 0x00, 0x27])
        #expect(driver.events.isEmpty)
        driver.feed([0x11])  // 0x2711 = 10001
        #expect(driver.failure?.message.contains("10001") == true)
    }
}
