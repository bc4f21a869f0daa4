import Testing
import WirePostgres

@testable import LocalDBProxy

/// A client that starts TLS at once (PostgreSQL 17 `sslnegotiation=direct`): its first byte is
/// 0x16, a TLS handshake record.
@Suite("PostgresLocalPrelude: direct TLS")
struct PostgresLocalPreludeDirectTLSTests {
    @Test("with local TLS, a ClientHello starts TLS and is replayed whole to it")
    func directTLSReplayed() throws {
        var driver = LocalPreludeDriver(localTLS: true)
        let hello = try Golden.tls("openssl-sni-alpn.bin")
        #expect(hello.first == 0x16)
        driver.feed(hello)
        #expect(driver.events == [.startDirectTLS])
        #expect(driver.toTLS == hello)
        #expect(driver.upstream.isEmpty)
    }

    @Test("with local TLS, after a direct handshake the StartupMessage is forwarded")
    func startupAfterDirectTLS() throws {
        var driver = LocalPreludeDriver(localTLS: true)
        let stream = try Golden.trustuserStream()
        driver.feed(try Golden.tls("openssl-sni-alpn.bin"))
        driver.handshakeDone()
        #expect(driver.events == [.startDirectTLS])
        driver.feed(stream)
        #expect(driver.events == [.startDirectTLS, .forward(.startup(Expected.trustuserStartup))])
        #expect(driver.upstream == stream)
    }

    @Test("with local TLS, an SSLRequest after a direct handshake fails")
    func sslRequestAfterDirectTLS() throws {
        var driver = LocalPreludeDriver(localTLS: true)
        driver.feed(try Golden.tls("openssl-sni-alpn.bin"))
        driver.handshakeDone()
        driver.feed(Packet.sslRequest)
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
    }

    @Test("without local TLS, a ClientHello fails with 08P01 and a hint about --local-tls")
    func directTLSWithoutLocalTLS() throws {
        var driver = LocalPreludeDriver(localTLS: false)
        driver.feed(try Golden.tls("openssl-sni-alpn.bin"))
        #expect(driver.events.count == 1)
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
        #expect(error.message.contains("sslnegotiation=direct"))
        #expect(error.hint?.contains("--local-tls") == true)
        #expect(driver.toTLS.isEmpty)
    }

    @Test("a lone 0x16 byte is enough to decide", arguments: [false, true])
    func firstByteDecides(localTLS: Bool) {
        var driver = LocalPreludeDriver(localTLS: localTLS)
        driver.feed([0x16])
        if localTLS {
            #expect(driver.events == [.startDirectTLS])
            #expect(driver.toTLS == [0x16])
        } else {
            #expect(driver.failure?.sqlState == Expected.protocolViolation)
        }
    }

    @Test("a ClientHello after SSLRequest N is not direct TLS: it is an invalid packet")
    func helloAfterSSLRequestN() throws {
        var driver = LocalPreludeDriver(localTLS: false)
        driver.feed(Packet.sslRequest + (try Golden.tls("openssl-sni-alpn.bin")))
        #expect(driver.events.first == .reply(Expected.answerN))
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
        #expect(error.message.hasPrefix("invalid startup packet:"))
        #expect(driver.toTLS.isEmpty)
    }
}
