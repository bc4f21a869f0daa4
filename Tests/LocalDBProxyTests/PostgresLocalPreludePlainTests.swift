import Testing
import WirePostgres

@testable import LocalDBProxy

/// Without local TLS: encryption requests are answered `N` here and the StartupMessage or
/// CancelRequest travels upstream with whatever followed it.
@Suite("PostgresLocalPrelude: without local TLS")
struct PostgresLocalPreludePlainTests {
    @Test("SSLRequest is answered N, then the StartupMessage is forwarded with the bytes after it")
    func sslRequestThenStartup() throws {
        var driver = LocalPreludeDriver(localTLS: false)
        let stream = try Golden.trustuserStream()
        driver.feed(try Golden.sslRequest())
        #expect(driver.events == [.reply(Expected.answerN)])
        driver.feed(stream)
        #expect(driver.events == [.reply(Expected.answerN), .forward(.startup(Expected.trustuserStartup))])
        #expect(driver.upstream == stream)
    }

    @Test("SSLRequest and StartupMessage in one read: N first, then everything after the SSLRequest upstream")
    func sslRequestAndStartupInOneRead() throws {
        var driver = LocalPreludeDriver(localTLS: false)
        let stream = try Golden.trustuserStream()
        driver.feed(try Golden.sslRequest() + stream)
        #expect(driver.events == [.reply(Expected.answerN), .forward(.startup(Expected.trustuserStartup))])
        #expect(driver.upstream == stream)
    }

    @Test("a StartupMessage with no request before it is forwarded byte for byte")
    func startupDirectly() throws {
        var driver = LocalPreludeDriver(localTLS: false)
        let stream = try Golden.trustuserStream()
        driver.feed(stream)
        #expect(driver.events == [.forward(.startup(Expected.trustuserStartup))])
        #expect(driver.upstream == stream)
    }

    @Test("GSSENCRequest then SSLRequest (libpq's order) are both answered N")
    func gssThenSSL() throws {
        var driver = LocalPreludeDriver(localTLS: false)
        let stream = try Golden.trustuserStream()
        driver.feed(Packet.gssEncRequest)
        driver.feed(Packet.sslRequest)
        driver.feed(stream)
        #expect(driver.events == [
            .reply(Expected.answerN), .reply(Expected.answerN), .forward(.startup(Expected.trustuserStartup)),
        ])
        #expect(driver.upstream == stream)
    }

    @Test("a CancelRequest is forwarded as it is")
    func cancelRequest() throws {
        var driver = LocalPreludeDriver(localTLS: false)
        let cancel = try Golden.cancelRequest()
        driver.feed(cancel)
        #expect(driver.events == [.forward(.cancel)])
        #expect(driver.upstream == cancel)
    }

    @Test("a CancelRequest after SSLRequest N is forwarded as it is")
    func cancelAfterSSLRequest() throws {
        var driver = LocalPreludeDriver(localTLS: false)
        let cancel = try Golden.cancelRequest()
        driver.feed(try Golden.sslRequest() + cancel)
        #expect(driver.events == [.reply(Expected.answerN), .forward(.cancel)])
        #expect(driver.upstream == cancel)
    }

    @Test("a second SSLRequest fails with 08P01")
    func secondSSLRequest() throws {
        var driver = LocalPreludeDriver(localTLS: false)
        driver.feed(Packet.sslRequest)
        driver.feed(Packet.sslRequest)
        #expect(driver.events.first == .reply(Expected.answerN))
        #expect(driver.events.count == 2)
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
        #expect(error.severity == .fatal)
        #expect(error.message.contains("SSLRequest sent twice"))
    }

    @Test("a second GSSENCRequest fails with 08P01")
    func secondGSSRequest() throws {
        var driver = LocalPreludeDriver(localTLS: false)
        driver.feed(Packet.gssEncRequest + Packet.sslRequest + Packet.gssEncRequest)
        #expect(Array(driver.events.prefix(2)) == [.reply(Expected.answerN), .reply(Expected.answerN)])
        #expect(driver.events.count == 3)
        let error = try #require(driver.failure)
        #expect(error.sqlState == Expected.protocolViolation)
        #expect(error.message.contains("GSSENCRequest sent twice"))
    }

    @Test("nothing is forwarded after a failure")
    func nothingAfterFailure() throws {
        var driver = LocalPreludeDriver(localTLS: false)
        driver.feed(Packet.sslRequest + Packet.sslRequest + (try Golden.trustuserStream()))
        #expect(driver.failure != nil)
        #expect(driver.upstream.isEmpty)
        #expect(!driver.events.contains { if case .forward = $0 { true } else { false } })
    }
}
