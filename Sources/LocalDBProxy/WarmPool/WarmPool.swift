import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ProxyCore

/// Keeps a few mutual-TLS connections to the router handshaken ahead of need, spread over the
/// event loops, so a new client skips the TCP and TLS set-up. Refills in the background (a few
/// dials at a time, backing off while the router is unreachable), closes connections at their
/// maximum age, drains when the certificate changes. Decisions are `WarmPoolBook`'s.
final class WarmPool: Sendable {
    private let book: NIOLockedValueBox<WarmPoolBook<Channel>>
    private let loops: [any EventLoop]
    private let current: NIOLockedValueBox<CurrentIdentity>
    private let routerHost: String
    private let routerPort: Int
    private let serverName: String?
    private let timeouts: ProxyTimeouts
    private let now: @Sendable () -> Date
    private let logger: Logger

    /// How long to wait before dialling again while the certificate is outside its validity.
    static let invalidCertificatePause = Duration.seconds(2)

    /// While the loop still has a ready connection for the next client, a take starts the
    /// replacement's dial only this much later: dialled at once, its connect and TLS handshake
    /// ran on the loop ahead of the taking client's login and held it back by about 1.5 ms on
    /// loopback (BENCHMARKS.md, row 4p). A take that empties the loop's share refills at once.
    static let refillPauseAfterTake = TimeAmount.milliseconds(5)

    init(
        size: Int, maxAge: Duration, group: any EventLoopGroup, configuration: LocalProxyConfiguration,
        current: NIOLockedValueBox<CurrentIdentity>, now: @escaping @Sendable () -> Date, logger: Logger
    ) {
        loops = Array(group.makeIterator())
        let generation = current.withLockedValue { $0.generation }
        book = NIOLockedValueBox(WarmPoolBook(
            targets: WarmPoolBook<Channel>.targets(total: size, slots: loops.count), maxAge: maxAge, generation: generation,
            maxDialing: min(max(size, 1), 4)))
        self.current = current
        routerHost = configuration.routerHost
        routerPort = configuration.routerPort
        serverName = configuration.effectiveServerName
        timeouts = configuration.timeouts
        self.now = now
        self.logger = logger
    }

    var status: WarmPoolStatus {
        book.withLockedValue { WarmPoolStatus(ready: $0.readyCount, dialing: $0.dialingCount, counters: $0.counters) }
    }

    /// Starts filling the pool.
    func start() {
        refill()
    }

    /// A pooled connection for a client on `loop` made with certificate `generation`, taken out
    /// of the pool; nil when none is ready (the client dials itself). Call on `loop`.
    func take(on loop: any EventLoop, generation: UInt64) -> Channel? {
        guard let slot = loops.firstIndex(where: { $0 === loop }) else { return nil }
        let (taken, discard, left) = book.withLockedValue { book in
            let (taken, discard) = book.take(slot: slot, generation: generation, at: .now)
            return (taken, discard, book.readyCount(slot: slot, generation: generation))
        }
        for channel in discard { channel.close(promise: nil) }
        if taken != nil, left > 0 {
            loop.scheduleTask(in: Self.refillPauseAfterTake) { [self] in refill() }
        } else {
            refill()
        }
        guard let taken, taken.isActive else { return nil }
        return taken
    }

    /// The certificate changed: close connections made with the old one and dial new ones.
    func identityChanged() {
        refill()
    }

    /// Closes every pooled connection (without waiting for the router's close_notify); no more
    /// are dialled.
    func stop() {
        let all = book.withLockedValue { $0.stop() }
        for channel in all { channel.close(promise: nil) }
    }

    // MARK: Reports from the connections

    func handshook(_ id: UInt64, channel: Channel) {
        let kept = book.withLockedValue { $0.dialed(id, channel, at: .now) }
        guard kept else {
            channel.close(promise: nil)
            return
        }
        let maxAge = book.withLockedValue { $0.maxAge }
        // A little after the age is reached, so the book agrees it has been.
        channel.eventLoop.scheduleTask(in: Self.timeAmount(maxAge) + .milliseconds(5)) { [self] in expire() }
        refill()
    }

    func dialFailed(_ id: UInt64, reason: String) {
        let first = book.withLockedValue { $0.dialFailed(id, at: .now) }
        if first {
            logger.warning("warm pool cannot open connections to the router; retrying with backoff", metadata: [
                "router": "\(routerHost):\(routerPort)", "reason": "\(reason)",
            ])
        } else {
            logger.trace("warm pool dial failed", metadata: ["reason": "\(reason)"])
        }
        refill()
    }

    func lost(_ id: UInt64) {
        if book.withLockedValue({ $0.lost(id, at: .now) }) {
            logger.debug("the router closed a pooled connection")
            refill()
        }
    }

    // MARK: Filling

    private func expire() {
        let old = book.withLockedValue { $0.expire(at: .now) }
        for channel in old { channel.close(promise: nil) }
        if !old.isEmpty { refill() }
    }

    private func refill() {
        let identity = current.withLockedValue { $0 }
        let clock = ContinuousClock.now
        var usable = true
        do {
            try identity.identity.checkValidity(at: now())
        } catch {
            usable = false
        }
        let (stale, plan) = book.withLockedValue { book in
            let stale = book.renew(generation: identity.generation)
            if !usable { book.pause(until: clock + Self.invalidCertificatePause) }
            return (stale, book.plan(at: clock))
        }
        for channel in stale { channel.close(promise: nil) }
        switch plan {
        case .idle:
            break
        case .wakeUp(let instant):
            let delay = clock.duration(to: instant)
            loops[0].scheduleTask(in: Self.timeAmount(delay)) { [self] in
                book.withLockedValue { $0.wokeUp() }
                refill()
            }
        case .dial(let dials):
            for dial in dials {
                self.dial(dial, identity: identity)
            }
        }
    }

    private func dial(_ dial: WarmPoolBook<Channel>.Dial, identity: CurrentIdentity) {
        let loop = loops[dial.slot]
        let sslContext = identity.sslContext
        let serverName = serverName
        let handshakeTimeout = timeouts.handshake
        ClientBootstrap(group: loop)
            .connectTimeout(timeouts.connect)
            .proxiedConnectionOptions()
            .channelInitializer { [self] upstream in
                upstream.eventLoop.makeCompletedFuture {
                    let operations = upstream.pipeline.syncOperations
                    try operations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    try operations.addHandler(PooledUpstreamHandler(id: dial.id, pool: self, handshakeTimeout: handshakeTimeout))
                }
            }
            .dial(HostAndPort(host: routerHost, port: routerPort))
            .whenFailure { [self] error in
                dialFailed(dial.id, reason: "\(error)")
            }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}
