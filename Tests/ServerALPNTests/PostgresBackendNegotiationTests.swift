import NIOCore
import Testing

@testable import ServerALPN

/// The router opening a connection to PostgreSQL: SSLRequest, then TLS on `S`; `N`, `E` or
/// anything else is refused, and so are bytes after `S` (CVE-2021-23222).
@Suite("PostgresBackendNegotiation")
struct PostgresBackendNegotiationTests {
    static let tlsModes: [DatabaseTLS.Mode] = [.require, .verifyCA, .verifyFull]

    static func failure(_ action: PostgresBackendNegotiation.Action) -> String? {
        guard case .fail(let reason) = action else { return nil }
        return reason
    }

    /// A machine that has sent its SSLRequest.
    static func awaitingAnswer(_ mode: DatabaseTLS.Mode) -> PostgresBackendNegotiation {
        var negotiation = PostgresBackendNegotiation(mode: mode)
        _ = negotiation.connected()
        return negotiation
    }

    @Test("disable: ready at once, nothing sent")
    func disableReadyAtOnce() {
        var negotiation = PostgresBackendNegotiation(mode: .disable)
        #expect(negotiation.connected() == .ready)
        #expect(negotiation.connected() == .readMore)
    }

    @Test("disable: any byte from the database before the client's packet fails")
    func disableDataBeforeSetup() throws {
        var negotiation = PostgresBackendNegotiation(mode: .disable)
        _ = negotiation.connected()
        let reason = try #require(Self.failure(negotiation.received(ByteBuffer(bytes: [0x53]))))
        #expect(reason.contains("before the connection was set up"))
    }

    @Test("TLS modes send psql's exact SSLRequest", arguments: tlsModes)
    func sendsSSLRequest(mode: DatabaseTLS.Mode) throws {
        var negotiation = PostgresBackendNegotiation(mode: mode)
        let golden = try PGGolden.sslRequest()
        #expect(golden == [0x00, 0x00, 0x00, 0x08, 0x04, 0xD2, 0x16, 0x2F])
        #expect(negotiation.connected() == .send(ByteBuffer(bytes: golden)))
    }

    @Test("S (the captured answer) starts TLS; the handshake makes it ready", arguments: tlsModes)
    func supportedStartsTLS(mode: DatabaseTLS.Mode) throws {
        var negotiation = Self.awaitingAnswer(mode)
        #expect(negotiation.received(ByteBuffer(bytes: try PGGolden.bytes("ssl-prefer.server.bin"))) == .startTLS)
        #expect(negotiation.tlsEstablished() == .ready)
        #expect(negotiation.tlsEstablished() == .readMore)
    }

    @Test("tlsEstablished before S asks for more and changes nothing")
    func strayTLSEstablished() {
        var negotiation = Self.awaitingAnswer(.require)
        #expect(negotiation.tlsEstablished() == .readMore)
        #expect(negotiation.received(ByteBuffer(bytes: [0x53])) == .startTLS)
    }

    @Test("an empty read waits for the answer")
    func emptyReadWaits() {
        var negotiation = Self.awaitingAnswer(.require)
        #expect(negotiation.received(ByteBuffer()) == .readMore)
        #expect(negotiation.received(ByteBuffer(bytes: [0x53])) == .startTLS)
    }

    @Test("N fails, naming the tls mode", arguments: tlsModes)
    func notSupportedFails(mode: DatabaseTLS.Mode) throws {
        var negotiation = Self.awaitingAnswer(mode)
        let reason = try #require(Self.failure(negotiation.received(ByteBuffer(bytes: [0x4E]))))
        #expect(reason.contains("answered N"))
        #expect(reason.contains("tls mode \(mode.rawValue) requires it"))
        #expect(negotiation.tlsEstablished() == .readMore)
    }

    @Test("E (an old server's error) fails as an error")
    func errorAnswerFails() throws {
        var negotiation = Self.awaitingAnswer(.require)
        var answer = [UInt8(ascii: "E")] + PGBytes.int32(20)
        answer += Array("SFATAL\0C0A000\0\0".utf8)
        let reason = try #require(Self.failure(negotiation.received(ByteBuffer(bytes: answer))))
        #expect(reason.contains("answered SSLRequest with an error"))
        #expect(reason.contains("may not be PostgreSQL"))
    }

    @Test("any other byte fails, naming it")
    func otherByteFails() throws {
        var negotiation = Self.awaitingAnswer(.verifyFull)
        let reason = try #require(Self.failure(negotiation.received(ByteBuffer(bytes: [0x48]))))
        #expect(reason.contains("byte 72"))
    }

    @Test("CVE-2021-23222: bytes after S in the same read fail", arguments: [[UInt8(0x16)], [0x52, 0, 0, 0, 8, 0, 0, 0, 0]])
    func bytesAfterSupported(extra: [UInt8]) throws {
        var negotiation = Self.awaitingAnswer(.require)
        let reason = try #require(Self.failure(negotiation.received(ByteBuffer(bytes: [0x53] + extra))))
        #expect(reason.contains("unencrypted data after accepting TLS"))
        #expect(negotiation.tlsEstablished() == .readMore)
    }

    @Test("a second answer while the handshake runs fails")
    func secondAnswerFails() throws {
        var negotiation = Self.awaitingAnswer(.require)
        #expect(negotiation.received(ByteBuffer(bytes: [0x53])) == .startTLS)
        #expect(Self.failure(negotiation.received(ByteBuffer(bytes: [0x53]))) != nil)
        #expect(negotiation.tlsEstablished() == .readMore)
    }

    @Test("after a failure every read fails and nothing becomes ready")
    func failedStaysFailed() throws {
        var negotiation = Self.awaitingAnswer(.require)
        _ = negotiation.received(ByteBuffer(bytes: [0x4E]))
        #expect(Self.failure(negotiation.received(ByteBuffer(bytes: [0x53]))) != nil)
        #expect(negotiation.tlsEstablished() == .readMore)
        #expect(negotiation.connected() == .readMore)
    }
}
