import NIOCore

/// Counts open connections and new-connection rates per client address and decides whether
/// one more may come in; free of I/O, locks and clocks (`RouterAdmission` adds those). A client
/// with nothing open and full buckets is forgotten, so the table holds only active clients.
struct ClientLimiter: Sendable {
    private(set) var limits: ConnectionLimits
    private var clients: [IPAddress: Client] = [:]
    /// `prune` runs when the table reaches this size.
    private var pruneAt: Int
    static let minimumPruneSize = 1024

    struct Client: Sendable {
        var open = 0
        var buckets: [TokenBucket]
    }

    enum Decision: Equatable {
        case admitted
        /// `open` connections are open already, `limit` the most allowed.
        case tooManyConnections(open: Int, limit: Int)
        case rateExceeded(ConnectionRate)
    }

    init(limits: ConnectionLimits) {
        self.limits = limits
        self.pruneAt = Self.minimumPruneSize
    }

    /// Admits `client` (counting its connection, taking a token from each bucket) or says
    /// which limit refuses it; a refused attempt takes nothing.
    mutating func admit(_ client: IPAddress, now: NIODeadline) -> Decision {
        if clients.count >= pruneAt { prune(now: now) }
        var entry = clients[client] ?? Client(buckets: limits.rates.map { TokenBucket(rate: $0, now: now) })
        if let limit = limits.maxConnections, entry.open >= limit {
            return .tooManyConnections(open: entry.open, limit: limit)
        }
        for index in entry.buckets.indices where !entry.buckets[index].hasToken(at: now) {
            clients[client] = entry
            return .rateExceeded(entry.buckets[index].rate)
        }
        for index in entry.buckets.indices { entry.buckets[index].take() }
        entry.open += 1
        clients[client] = entry
        return .admitted
    }

    /// One connection `admit` counted for `client` closed.
    mutating func release(_ client: IPAddress, now: NIODeadline) {
        guard var entry = clients[client] else { return }
        entry.open = max(entry.open - 1, 0)
        if entry.open == 0, entry.buckets.allSatisfy({ $0.isFull(at: now) }) {
            clients[client] = nil
        } else {
            clients[client] = entry
        }
    }

    /// Forgets clients with nothing open whose buckets have filled up again.
    mutating func prune(now: NIODeadline) {
        clients = clients.filter { _, entry in entry.open > 0 || !entry.buckets.allSatisfy { $0.isFull(at: now) } }
        pruneAt = max(Self.minimumPruneSize, clients.count * 2)
    }

    /// New limits: open connections stay counted; buckets start again full when the rates changed.
    mutating func update(_ limits: ConnectionLimits, now: NIODeadline) {
        let ratesChanged = limits.rates != self.limits.rates
        self.limits = limits
        guard ratesChanged else { return }
        for (address, entry) in clients {
            clients[address]?.buckets = limits.rates.map { TokenBucket(rate: $0, now: now) }
            if entry.open == 0 { clients[address] = nil }
        }
    }

    /// Connections counted open for `client`.
    func openConnections(_ client: IPAddress) -> Int {
        clients[client]?.open ?? 0
    }

    /// Client addresses the table holds (open connections or buckets not yet full).
    var trackedClients: Int { clients.count }
}
