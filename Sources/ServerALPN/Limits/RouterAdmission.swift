import NIOConcurrencyHelpers
import NIOCore
import ProxyCore

/// The router's `ClientLimiter` behind a lock, shared by every event loop: one lock per
/// connection opened and one per connection closed, nothing on the data path.
final class RouterAdmission: Sendable {
    private let limiter: NIOLockedValueBox<ClientLimiter>
    private let clock: @Sendable () -> NIODeadline

    /// `clock`: what time it is for the token buckets (tests move it by hand).
    init(limits: ConnectionLimits, clock: @escaping @Sendable () -> NIODeadline = { .now() }) {
        self.limiter = NIOLockedValueBox(ClientLimiter(limits: limits))
        self.clock = clock
    }

    var limits: ConnectionLimits { limiter.withLockedValue { $0.limits } }

    /// Admits a connection from `client` or says why not. A client without an IP address (no
    /// peer address) is let in uncounted. On `.admitted(let ticket?)`, call `release(ticket)`
    /// when the connection closes.
    func admit(_ client: HostAndPort?) -> Outcome {
        guard let client, let address = IPAddress(parsing: client.host)?.unmapped else { return .admitted(nil) }
        let now = clock()
        switch limiter.withLockedValue({ $0.admit(address, now: now) }) {
        case .admitted:
            return .admitted(Ticket(address: address))
        case .tooManyConnections(_, let limit):
            return .refused(.tooManyConnections(client: address.description, limit: limit))
        case .rateExceeded(let rate):
            return .refused(.connectionRateExceeded(client: address.description, rate: rate))
        }
    }

    func release(_ ticket: Ticket) {
        let now = clock()
        limiter.withLockedValue { $0.release(ticket.address, now: now) }
    }

    func update(_ limits: ConnectionLimits) {
        let now = clock()
        limiter.withLockedValue { $0.update(limits, now: now) }
    }

    /// Connections counted open for `host` (an IP address).
    func openConnections(from host: String) -> Int {
        guard let address = IPAddress(parsing: host)?.unmapped else { return 0 }
        return limiter.withLockedValue { $0.openConnections(address) }
    }

    /// Client addresses held in the table, after forgetting those with nothing left to remember.
    func trackedClients() -> Int {
        let now = clock()
        return limiter.withLockedValue { limiter in
            limiter.prune(now: now)
            return limiter.trackedClients
        }
    }

    enum Outcome {
        case admitted(Ticket?)
        case refused(RouterRejection)
    }

    /// One counted connection, to be released once.
    struct Ticket: Sendable {
        let address: IPAddress
    }
}
