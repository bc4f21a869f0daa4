import Testing
import WirePostgres

@testable import LocalDBProxy

/// With local TLS: SSLRequest is answered `S` and the StartupMessage comes inside TLS; bytes
/// sent in the clear after the SSLRequest are refused (CVE-2021-23214).
@Suite("PostgresLocalPrelude: with local TLS")
struct PostgresLocalPreludeTLSTests {
    @Test("SSLRequest starts local TLS with S; after the handshake the StartupMessage is forwarded")
    func sslRequestStartsTLS() throws {
        var driver = LocalPreludeDriver(localTLS: true)
        let stream = try Golden.trustuserStream()
        driver.feed(try Golden.sslRequest())
        #expect(driver.events == [.startTLS(reply: Expected.answerS)])
        #expect(driver.upstream.isEmpty)
        driver.handshakeDone()
        #expect(driver.events == [.startTLS(reply: Expected.answerS)])
        driver.feed(stream)
        #expect(driver.events == [.startTLS(reply: Expected.answerS), .forward(.startup(Expected.trustuserStartup))])
        #expect(driver.upstream == stream)
        #expect(driver.toTLS.isEmpty)
    }

    @Test("a CancelRequest inside local TLS is forwarded as it is")
    func cancelInsideTLS() throws {
        var driver = LocalPreludeDriver(localTLS: true)
        let cancel = try Golden.cancelRequest()
        driver.feed(Packet.sslRequest)
        driver.handshakeDone()
        driver.feed(cancel)
        #expect(driver.events == [.startTLS(reply: Expected.answerS), .forward(.cancel)])
        #expect(driver.upstream == cancel)
    }

    @Test("CVE-2021-23214: a StartupMessage in the same read as the SSLRequest fails with 08P01")
    func startupAfterSSLRequestInClear() throws {
        var driver = LocalPreludeDriver(localTLS: true)
        driver.feed(try Golden.sslRequest() + (try Golden.trustuserStream()))
        #expect(driver.events.count == 1)
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
        #expect(error.message.contains("unencrypted data after SSLRequest"))
        #expect(driver.upstream.isEmpty)
    }

    @Test("CVE-2021-23214: even one byte after the SSLRequest fails", arguments: [UInt8(0), 0x16, 0x51])
    func oneByteAfterSSLRequest(byte: UInt8) throws {
        var driver = LocalPreludeDriver(localTLS: true)
        driver.feed(Packet.sslRequest + [byte])
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
        #expect(!driver.events.contains(.startTLS(reply: Expected.answerS)))
    }

    @Test("GSSENCRequest then SSLRequest: N, then S and TLS")
    func gssThenSSL() throws {
        var driver = LocalPreludeDriver(localTLS: true)
        let stream = try Golden.trustuserStream()
        driver.feed(Packet.gssEncRequest + Packet.sslRequest)
        #expect(driver.events == [.reply(Expected.answerN), .startTLS(reply: Expected.answerS)])
        driver.handshakeDone()
        driver.feed(stream)
        #expect(driver.last == .forward(.startup(Expected.trustuserStartup)))
        #expect(driver.upstream == stream)
    }

    @Test("an SSLRequest inside local TLS fails with 08P01")
    func sslRequestInsideTLS() throws {
        var driver = LocalPreludeDriver(localTLS: true)
        driver.feed(Packet.sslRequest)
        driver.handshakeDone()
        driver.feed(Packet.sslRequest)
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
        #expect(error.message.contains("SSLRequest sent twice"))
    }

    @Test("a GSSENCRequest inside local TLS fails with 08P01")
    func gssRequestInsideTLS() throws {
        var driver = LocalPreludeDriver(localTLS: true)
        driver.feed(Packet.sslRequest)
        driver.handshakeDone()
        driver.feed(Packet.gssEncRequest)
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
        #expect(error.message.contains("GSSENCRequest sent twice"))
    }

    @Test("tlsEstablished without a TLS request asks for more and changes nothing")
    func strayTLSEstablished() throws {
        var prelude = PostgresLocalPrelude(localTLS: true)
        #expect(prelude.tlsEstablished() == .readMore)
        // Still plain text: an SSLRequest is answered S, not refused as sent inside TLS.
        let action = prelude.received(.init(bytes: Packet.sslRequest))
        #expect(action == .startTLS(reply: .init(bytes: Expected.answerS)))
    }
}
