import Foundation
import Testing

@testable import LocalDBProxy

@Suite("Certificate expiry watch")
struct CertificateExpiryWatchTests {
    private let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("nothing outside the window; one warning inside it; one expiry notice; renewal starts over")
    func lifecycle() {
        var watch = CertificateExpiryWatch(notAfter: start + 3600, warningWindow: .seconds(600))
        #expect(watch.check(at: start) == nil)
        #expect(!watch.wantsRenewal(at: start))
        #expect(watch.check(at: start + 3000) == .expiring(remaining: .seconds(600)))
        #expect(watch.check(at: start + 3100) == nil)
        #expect(watch.wantsRenewal(at: start + 3100))
        #expect(watch.check(at: start + 3600) == .expired)
        #expect(watch.check(at: start + 4000) == nil)
        watch.renewed(notAfter: start + 7200)
        #expect(watch.check(at: start + 4000) == nil)
        #expect(watch.check(at: start + 6700) == .expiring(remaining: .seconds(500)))
    }

    @Test("a certificate already expired at the first check gets the expiry notice only")
    func alreadyExpired() {
        var watch = CertificateExpiryWatch(notAfter: start, warningWindow: .seconds(600))
        #expect(watch.check(at: start + 1) == .expired)
        #expect(watch.check(at: start + 2) == nil)
    }
}
