import NIOCore
import ProxyCore
import Testing

@testable import ServerALPN

/// A connection the router already refused: the refusal is the answer to the client's first
/// real packet (where psql shows it), after the encryption requests are answered N.
@Suite("PostgresFrontendPrelude: refusal")
struct PostgresFrontendRefusalTests {
    /// A prelude in refusal mode, with the refusal as the tests see it. The refusal is taken
    /// from a denied startup since this target cannot build WirePostgres values itself.
    static func refusingPrelude() throws -> (PostgresFrontendPrelude, PGErrorView) {
        var denying = PostgresFrontendPrelude(identity: PGIdentity.make(user: "someone"), service: "refused-service")
        let denied = denying.received(ByteBuffer(bytes: PGBytes.startup([("user", "other")])))
        guard case .fail(let error) = denied, let view = denied.failure else {
            throw RefusalSetupError()
        }
        return (PostgresFrontendPrelude(identity: nil, service: "", refusal: error), view)
    }

    struct RefusalSetupError: Error {}

    @Test("SSLRequest is answered N, then the StartupMessage gets the refusal")
    func startupRefused() throws {
        let (prelude, refusal) = try Self.refusingPrelude()
        var driver = FrontendPreludeDriver(prelude)
        driver.feed(try PGGolden.sslRequest())
        #expect(driver.events == [.reply([0x4E])])
        driver.feed(try PGGolden.trustuserStream())
        #expect(driver.events == [.reply([0x4E]), .fail(refusal)])
        #expect(driver.upstream.isEmpty)
    }

    @Test("GSSENCRequest and SSLRequest are answered N before the refusal")
    func gssAndSSLBeforeRefusal() throws {
        let (prelude, refusal) = try Self.refusingPrelude()
        var driver = FrontendPreludeDriver(prelude)
        driver.feed(PGBytes.gssEncRequest + PGBytes.sslRequest + (try PGGolden.trustuserStream()))
        #expect(driver.events == [.reply([0x4E]), .reply([0x4E]), .fail(refusal)])
    }

    @Test("a CancelRequest gets the refusal instead of reaching a database")
    func cancelRefused() throws {
        let (prelude, refusal) = try Self.refusingPrelude()
        var driver = FrontendPreludeDriver(prelude)
        driver.feed(try PGGolden.cancelRequest())
        #expect(driver.events == [.fail(refusal)])
        #expect(driver.upstream.isEmpty)
    }

    @Test("a startup the certificate would allow is refused all the same")
    func refusalWinsOverIdentity() throws {
        let (_, refusal) = try Self.refusingPrelude()
        var denying = PostgresFrontendPrelude(identity: PGIdentity.make(user: "someone"), service: "refused-service")
        guard case .fail(let error) = denying.received(ByteBuffer(bytes: PGBytes.startup([("user", "other")]))) else {
            Issue.record("the setup startup was not denied")
            return
        }
        var driver = FrontendPreludeDriver(PostgresFrontendPrelude(identity: PGIdentity.make(user: "trustuser"), service: "pg", refusal: error))
        driver.feed(try PGGolden.trustuserStream())
        #expect(driver.events == [.fail(refusal)])
    }

    @Test("after the refusal nothing more happens")
    func nothingAfterRefusal() throws {
        var (prelude, _) = try Self.refusingPrelude()
        #expect(prelude.received(ByteBuffer(bytes: try PGGolden.trustuserStream())).failure != nil)
        #expect(prelude.received(ByteBuffer(bytes: PGBytes.sslRequest)) == .readMore)
    }
}
