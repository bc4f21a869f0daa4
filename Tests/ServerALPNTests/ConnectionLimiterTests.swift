import NIOConcurrencyHelpers
import NIOCore
import ProxyCore
@testable import ServerALPN
import Testing

/// The per-client-address limits without sockets: the open-connection count, the token
/// buckets with a clock moved by hand, and that nothing stays behind once clients are gone.
@Suite("Connection limits per client address")
struct ConnectionLimiterTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    static let alice = IPAddress(parsing: "203.0.113.7")!
    static let bob = IPAddress(parsing: "198.51.100.9")!

    /// Admits `address` at each of `times` (milliseconds after `start`), in order.
    func admit(_ limiter: inout ClientLimiter, _ address: IPAddress, at times: [Int64]) -> [ClientLimiter.Decision] {
        times.map { limiter.admit(address, now: Self.start + .milliseconds($0)) }
    }

    @Test("max_connections: the third connection from one address is refused, another address still gets in, a close frees a slot")
    func maxConnections() {
        var limiter = ClientLimiter(limits: ConnectionLimits(maxConnections: 2))
        let alice = admit(&limiter, Self.alice, at: [0, 0, 0])
        #expect(alice == [.admitted, .admitted, .tooManyConnections(open: 2, limit: 2)])
        let bob = admit(&limiter, Self.bob, at: [0])
        #expect(bob == [.admitted])
        #expect(limiter.openConnections(Self.alice) == 2)
        limiter.release(Self.alice, now: Self.start)
        #expect(limiter.openConnections(Self.alice) == 1)
        let again = admit(&limiter, Self.alice, at: [0, 0])
        #expect(again == [.admitted, .tooManyConnections(open: 2, limit: 2)])
    }

    @Test("a token bucket: a full burst, then one token per average/period, never above burst")
    func tokenBucket() {
        let rate = ConnectionRate(period: .seconds(1), average: 4, burst: 3)
        var bucket = TokenBucket(rate: rate, now: Self.start)
        var answers: [Bool] = []
        for _ in 0..<3 {
            answers.append(bucket.hasToken(at: Self.start))
            bucket.take()
        }
        answers.append(bucket.hasToken(at: Self.start))
        answers.append(bucket.hasToken(at: Self.start + .milliseconds(249)))
        answers.append(bucket.hasToken(at: Self.start + .milliseconds(250)))
        #expect(answers == [true, true, true, false, false, true], "4 per second: one token every 250 ms")
        bucket.take()
        #expect(!bucket.isFull(at: Self.start + .milliseconds(250)))
        #expect(bucket.isFull(at: Self.start + .seconds(10)))
        let later = bucket.hasToken(at: Self.start + .seconds(10))
        #expect(later)
        #expect(bucket.tokens == 3, "capped at burst")
    }

    @Test("a clock that goes back earns no tokens")
    func clockBack() {
        var bucket = TokenBucket(rate: ConnectionRate(period: .seconds(1), average: 1, burst: 1), now: Self.start)
        bucket.take()
        let earlier = bucket.hasToken(at: Self.start - .seconds(5))
        let later = bucket.hasToken(at: Self.start + .seconds(1))
        #expect(!earlier && later)
    }

    @Test("rates: a burst is let in, the next refused until the bucket refills; a refused attempt takes no token")
    func rateBurst() {
        let rate = ConnectionRate(period: .seconds(1), average: 2, burst: 3)
        var limiter = ClientLimiter(limits: ConnectionLimits(rates: [rate]))
        let burst = admit(&limiter, Self.alice, at: [0, 0, 0, 0, 100])
        #expect(burst == [.admitted, .admitted, .admitted, .rateExceeded(rate), .rateExceeded(rate)])
        let bob = admit(&limiter, Self.bob, at: [0])
        #expect(bob == [.admitted], "buckets are per address")
        let refilled = admit(&limiter, Self.alice, at: [500, 500])
        #expect(refilled == [.admitted, .rateExceeded(rate)], "one token back after 500 ms")
        #expect(limiter.openConnections(Self.alice) == 4, "refused attempts are not counted")
    }

    @Test("every rate must have a token; a connection over max_connections takes none")
    func severalRates() {
        let perSecond = ConnectionRate(period: .seconds(1), average: 10, burst: 10)
        let perMinute = ConnectionRate(period: .minutes(1), average: 3)
        var limiter = ClientLimiter(limits: ConnectionLimits(maxConnections: 1, rates: [perSecond, perMinute]))
        var decisions = admit(&limiter, Self.alice, at: [0, 0])
        for _ in 0..<3 {
            limiter.release(Self.alice, now: Self.start)
            decisions += admit(&limiter, Self.alice, at: [0])
        }
        #expect(decisions == [.admitted, .tooManyConnections(open: 1, limit: 1), .admitted, .admitted, .rateExceeded(perMinute)],
                "3 per minute used up, 7 per second left")
    }

    @Test("released and refilled clients are forgotten: the table empties")
    func noLeak() {
        var limiter = ClientLimiter(limits: ConnectionLimits(maxConnections: 5, rates: [ConnectionRate(period: .seconds(1), average: 10)]))
        let addresses = (1...2000).map { IPAddress.v4(0x0A00_0000 + UInt32($0)) }
        let decisions = addresses.map { limiter.admit($0, now: Self.start) }
        #expect(decisions.allSatisfy { $0 == .admitted })
        #expect(limiter.trackedClients == 2000)
        for address in addresses { limiter.release(address, now: Self.start) }
        #expect(limiter.trackedClients == 2000, "buckets not yet full: still remembered")
        limiter.prune(now: Self.start + .seconds(1))
        #expect(limiter.trackedClients == 0)
        #expect(addresses.allSatisfy { limiter.openConnections($0) == 0 })
    }

    @Test("without rates a client is forgotten at its last close; the table prunes itself as it grows")
    func forgottenAtClose() {
        var limiter = ClientLimiter(limits: ConnectionLimits(maxConnections: 1))
        _ = limiter.admit(Self.alice, now: Self.start)
        #expect(limiter.trackedClients == 1)
        limiter.release(Self.alice, now: Self.start)
        #expect(limiter.trackedClients == 0)
        var rated = ClientLimiter(limits: ConnectionLimits(rates: [ConnectionRate(period: .seconds(1), average: 1)]))
        for index in 0..<(ClientLimiter.minimumPruneSize * 3) {
            let address = IPAddress.v4(0x0A00_0000 + UInt32(index))
            _ = rated.admit(address, now: Self.start + .seconds(Int64(index)))
            rated.release(address, now: Self.start + .seconds(Int64(index)))
        }
        #expect(rated.trackedClients <= ClientLimiter.minimumPruneSize, "\(rated.trackedClients)")
    }

    @Test("new limits apply to new connections; open ones stay counted; changed rates start full")
    func update() {
        let rate = ConnectionRate(period: .minutes(1), average: 1)
        var limiter = ClientLimiter(limits: ConnectionLimits(rates: [rate]))
        let before = admit(&limiter, Self.alice, at: [0, 0])
        #expect(before == [.admitted, .rateExceeded(rate)])
        limiter.update(ConnectionLimits(maxConnections: 1, rates: [ConnectionRate(period: .minutes(1), average: 5)]), now: Self.start)
        #expect(limiter.openConnections(Self.alice) == 1)
        var after = admit(&limiter, Self.alice, at: [0])
        limiter.release(Self.alice, now: Self.start)
        after += admit(&limiter, Self.alice, at: [0])
        #expect(after == [.tooManyConnections(open: 1, limit: 1), .admitted])
    }

    @Test("RouterAdmission: IPv4-mapped IPv6 counts as IPv4, the clock is injected, tickets release, refusals name the limit")
    func admission() throws {
        let clock = NIOLockedValueBox(Self.start)
        let admission = RouterAdmission(
            limits: ConnectionLimits(maxConnections: 1, rates: [ConnectionRate(period: .seconds(1), average: 1, burst: 2)]),
            clock: { clock.withLockedValue { $0 } })
        guard case .admitted(let ticket?) = admission.admit(HostAndPort(host: "::ffff:203.0.113.7", port: 1)) else {
            Issue.record("not admitted")
            return
        }
        #expect(admission.openConnections(from: "203.0.113.7") == 1)
        guard case .refused(let reason) = admission.admit(HostAndPort(host: "203.0.113.7", port: 2)) else {
            Issue.record("admitted over max_connections")
            return
        }
        #expect(reason == .tooManyConnections(client: "203.0.113.7", limit: 1))
        #expect(reason.kind == "connection_limit")
        #expect(reason.description.contains("proxy_service.connection_limits.max_connections"))
        admission.release(ticket)
        guard case .admitted(let second?) = admission.admit(HostAndPort(host: "203.0.113.7", port: 3)) else {
            Issue.record("not admitted after a release")
            return
        }
        admission.release(second)
        guard case .refused(let rateReason) = admission.admit(HostAndPort(host: "203.0.113.7", port: 4)) else {
            Issue.record("admitted over the burst")
            return
        }
        #expect(rateReason.kind == "connection_rate")
        #expect(rateReason.description.contains("1 per 1s, burst 2"), "\(rateReason)")
        clock.withLockedValue { $0 = $0 + .seconds(2) }
        #expect(admission.trackedClients() == 0, "nothing open, bucket full again")
        guard case .admitted(let uncounted) = admission.admit(nil), uncounted == nil else {
            Issue.record("a connection without an address is let in uncounted")
            return
        }
    }
}
