import NIOCore
import ProxyCore
import Testing

@testable import ServerALPN

/// The router's first look at a PostgreSQL client inside its TLS: encryption requests are
/// answered N, the StartupMessage or CancelRequest goes to the database with what follows it.
@Suite("PostgresFrontendPrelude: packets")
struct PostgresFrontendPreludeTests {
    @Test("SSLRequest is answered N, then the StartupMessage goes to the database")
    func sslRequestAnsweredN() throws {
        var driver = FrontendPreludeDriver(identity: nil)
        let stream = try PGGolden.trustuserStream()
        driver.feed(try PGGolden.sslRequest())
        #expect(driver.events == [.reply([0x4E])])
        driver.feed(stream)
        #expect(driver.events == [.reply([0x4E]), .connect(.startup(user: "trustuser", database: "appdb"))])
        #expect(driver.upstream == stream)
    }

    @Test("GSSENCRequest and SSLRequest in one read are both answered N")
    func gssAndSSL() throws {
        var driver = FrontendPreludeDriver(identity: nil)
        driver.feed(PGBytes.gssEncRequest + PGBytes.sslRequest + (try PGGolden.trustuserStream()))
        #expect(driver.events == [.reply([0x4E]), .reply([0x4E]), .connect(.startup(user: "trustuser", database: "appdb"))])
    }

    @Test("without an identity the StartupMessage and what follows pass byte for byte")
    func noIdentityUnchanged() throws {
        var prelude = PostgresFrontendPrelude(identity: nil, service: "pg")
        let stream = try PGGolden.trustuserStream()
        let action = prelude.received(ByteBuffer(bytes: stream))
        #expect(action == .connect(ByteBuffer(bytes: stream), .startup(user: "trustuser", database: "appdb")))
    }

    @Test("without an identity a StartupMessage with no user passes unchanged, database defaulting to nothing")
    func noIdentityNoUser() {
        var prelude = PostgresFrontendPrelude(identity: nil, service: "pg")
        let startup = PGBytes.startup([("application_name", "psql")])
        #expect(prelude.received(ByteBuffer(bytes: startup)) == .connect(ByteBuffer(bytes: startup), .startup(user: "", database: "")))
    }

    @Test("the database defaults to the user name in the outcome")
    func databaseDefaultsToUser() {
        var prelude = PostgresFrontendPrelude(identity: nil, service: "pg")
        let startup = PGBytes.startup([("user", "alice")])
        #expect(prelude.received(ByteBuffer(bytes: startup)) == .connect(ByteBuffer(bytes: startup), .startup(user: "alice", database: "alice")))
    }

    @Test("a CancelRequest goes to the database as it is, even with an identity")
    func cancelAsIs() throws {
        let cancel = try PGGolden.cancelRequest()
        for identity in [nil, PGIdentity.make(user: "alice", database: "appdb")] {
            var driver = FrontendPreludeDriver(identity: identity)
            driver.feed(PGBytes.sslRequest + cancel)
            #expect(driver.events == [.reply([0x4E]), .connect(.cancel)])
            #expect(driver.upstream == cancel)
        }
    }

    @Test("an invalid length fails with 08P01 and says why", arguments: [
        (PGBytes.int32(7), "startup packet length 7 is below the minimum of 8"),
        (PGBytes.int32(10001), "startup packet length 10001 exceeds the maximum of 10000"),
        (PGBytes.int32(12) + PGBytes.int32(80_877_103) + [0, 0, 0, 0], "SSLRequest must be 8 bytes long, got 12"),
    ])
    func invalidLength(bytes: [UInt8], reason: String) throws {
        var driver = FrontendPreludeDriver(identity: nil)
        driver.feed(PGBytes.sslRequest + bytes)
        #expect(driver.events.first == .reply([0x4E]))
        let error = try #require(driver.failure)
        #expect(error.sqlState == "08P01")
        #expect(error.severity == "FATAL")
        #expect(error.message == "invalid startup packet: " + reason)
        #expect(driver.upstream.isEmpty)
    }

    @Test("after connect the prelude asks for nothing more")
    func doneAfterConnect() throws {
        var prelude = PostgresFrontendPrelude(identity: nil, service: "pg")
        _ = prelude.received(ByteBuffer(bytes: try PGGolden.trustuserStream()))
        #expect(prelude.received(ByteBuffer(bytes: PGBytes.sslRequest)) == .readMore)
        #expect(prelude.step() == .readMore)
    }

    @Test("one byte per read gives the same events and the same bytes upstream", arguments: [false, true])
    func oneByteAtATime(withIdentity: Bool) throws {
        let stream = PGBytes.gssEncRequest + PGBytes.sslRequest + PGBytes.startup([("database", "appdb")]) + PGBytes.query("select 1")
        let identity = withIdentity ? PGIdentity.make(user: "alice") : nil
        var whole = FrontendPreludeDriver(identity: identity)
        whole.feed(stream)
        var split = FrontendPreludeDriver(identity: identity)
        split.feed(stream.map { [$0] })
        #expect(whole.events.count == 3)
        #expect(split.events == whole.events)
        #expect(split.upstream == whole.upstream)
        for cut in 1..<stream.count {
            var two = FrontendPreludeDriver(identity: identity)
            two.feed([Array(stream[..<cut]), Array(stream[cut...])])
            #expect(two.events == whole.events, "cut at \(cut)")
            #expect(two.upstream == whole.upstream, "cut at \(cut)")
        }
    }
}
