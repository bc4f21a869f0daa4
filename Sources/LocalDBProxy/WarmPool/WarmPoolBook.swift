/// The bookkeeping of a warm pool, without sockets or timers: which pre-handshaken connections
/// are ready on which event loop (slot), which dials are under way, when the next dial may
/// start, and which connections must go (too old, made with a replaced certificate, closed by
/// the router). The pool performs what it answers; every answer that removes connections hands
/// them back to be closed.
struct WarmPoolBook<Element> {
    typealias Instant = ContinuousClock.Instant

    struct Entry {
        var id: UInt64
        var element: Element
        var slot: Int
        var generation: UInt64
        var readyAt: Instant
    }

    /// A dial to start: on the loop of `slot`, with the certificate of `generation`.
    struct Dial: Equatable, Sendable {
        var id: UInt64
        var slot: Int
        var generation: UInt64
    }

    /// What to do about dials right now.
    enum Plan: Equatable, Sendable {
        /// Start these dials.
        case dial([Dial])
        /// Nothing may start before this instant: wake up then.
        case wakeUp(at: Instant)
        /// Nothing to do (full, or a wake-up is already planned).
        case idle
    }

    /// How many ready connections each slot keeps.
    let targets: [Int]
    /// Older connections are discarded.
    let maxAge: Duration
    /// At most this many dials at a time.
    let maxDialing: Int
    /// The first backoff after a failure; it doubles with each further one up to `maxBackoff`.
    let firstBackoff: Duration
    let maxBackoff: Duration

    /// The certificate generation connections must have been made with.
    private(set) var generation: UInt64
    private(set) var ready: [Entry] = []
    private var dialing: [UInt64: Dial] = [:]
    private var nextID: UInt64 = 0
    /// Failures since a pooled connection last proved usable (taken, or aged out unharmed).
    private(set) var failures = 0
    private var retryAt: Instant?
    /// A wake-up is pending: set when `plan` asks for one, cleared only by `wokeUp`, so at most
    /// one timer is ever pending whatever fails or pauses meanwhile.
    private var wakeUpPlanned = false
    private(set) var stopped = false
    private(set) var counters = WarmPoolStatus.Counters()

    init(
        targets: [Int], maxAge: Duration, generation: UInt64, maxDialing: Int = 4,
        firstBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(5)
    ) {
        self.targets = targets
        self.maxAge = maxAge
        self.generation = generation
        self.maxDialing = max(1, maxDialing)
        self.firstBackoff = firstBackoff
        self.maxBackoff = maxBackoff
    }

    /// Spreads `total` connections over `slots` event loops, the first loops taking the remainder.
    static func targets(total: Int, slots: Int) -> [Int] {
        guard slots > 0 else { return [] }
        let total = max(0, total)
        return (0..<slots).map { total / slots + ($0 < total % slots ? 1 : 0) }
    }

    var readyCount: Int { ready.count }
    var dialingCount: Int { dialing.count }

    /// Ready connections of `slot` made with certificate `generation`.
    func readyCount(slot: Int, generation: UInt64) -> Int {
        ready.count { $0.slot == slot && $0.generation == generation }
    }

    /// Which dials to start at `now` to bring every slot back to its target.
    mutating func plan(at now: Instant) -> Plan {
        guard !stopped else { return .idle }
        if let retryAt, now < retryAt {
            guard !wakeUpPlanned else { return .idle }
            wakeUpPlanned = true
            return .wakeUp(at: retryAt)
        }
        retryAt = nil
        var dials: [Dial] = []
        for (slot, target) in targets.enumerated() {
            let have = ready.count(where: { $0.slot == slot }) + dialing.values.count(where: { $0.slot == slot })
            var missing = target - have
            while missing > 0, dialing.count < maxDialing {
                nextID += 1
                let dial = Dial(id: nextID, slot: slot, generation: generation)
                dialing[dial.id] = dial
                dials.append(dial)
                missing -= 1
            }
        }
        return dials.isEmpty ? .idle : .dial(dials)
    }

    /// Dialling `id` produced a connection whose TLS handshake completed at `now`. Returns
    /// false when it must be closed instead (certificate replaced meanwhile, pool stopped).
    mutating func dialed(_ id: UInt64, _ element: Element, at now: Instant) -> Bool {
        guard let dial = dialing.removeValue(forKey: id) else { return false }
        counters.dialed += 1
        guard !stopped, dial.generation == generation else {
            counters.drained += 1
            return false
        }
        ready.append(Entry(id: id, element: element, slot: dial.slot, generation: dial.generation, readyAt: now))
        return true
    }

    /// Dialling `id` failed (refused, timed out, TLS failed): nothing more starts until the
    /// backoff has passed. Returns whether this began a run of failures (worth one log line).
    @discardableResult
    mutating func dialFailed(_ id: UInt64, at now: Instant) -> Bool {
        guard dialing.removeValue(forKey: id) != nil else { return false }
        counters.dialFailures += 1
        return failed(at: now)
    }

    /// Takes the newest ready connection of `slot` made with certificate `generation`, if any.
    /// A newer generation drains everything older first. `discard` are connections to close.
    mutating func take(slot: Int, generation: UInt64, at now: Instant) -> (taken: Element?, discard: [Element]) {
        var discard = renew(generation: generation)
        discard += expire(at: now)
        guard !stopped, let index = ready.lastIndex(where: { $0.slot == slot && $0.generation == generation }) else {
            counters.missed += 1
            return (nil, discard)
        }
        let entry = ready.remove(at: index)
        counters.taken += 1
        proven()
        return (entry.element, discard)
    }

    /// The connection `id` was closed by the router while it waited. Returns whether it was
    /// still in the pool (then it counts as a failure, so a router that closes every new
    /// connection is not redialled in a loop).
    @discardableResult
    mutating func lost(_ id: UInt64, at now: Instant) -> Bool {
        guard let index = ready.firstIndex(where: { $0.id == id }) else { return false }
        ready.remove(at: index)
        counters.lost += 1
        failed(at: now)
        return true
    }

    /// Removes and returns the connections that reached `maxAge` at `now`.
    mutating func expire(at now: Instant) -> [Element] {
        var old: [Element] = []
        let maxAge = maxAge
        ready.removeAll { entry in
            guard entry.readyAt.duration(to: now) >= maxAge else { return false }
            old.append(entry.element)
            return true
        }
        if !old.isEmpty {
            counters.expired += old.count
            proven()
        }
        return old
    }

    /// The instant the oldest ready connection reaches `maxAge`.
    var nextExpiry: Instant? {
        ready.map(\.readyAt).min().map { $0 + maxAge }
    }

    /// The certificate changed: connections made with an older one are removed and returned;
    /// dials under way with one are discarded when they finish.
    mutating func renew(generation newGeneration: UInt64) -> [Element] {
        guard newGeneration > generation else { return [] }
        generation = newGeneration
        var stale: [Element] = []
        ready.removeAll { entry in
            guard entry.generation != newGeneration else { return false }
            stale.append(entry.element)
            return true
        }
        counters.drained += stale.count
        // A new certificate may be what the router was waiting for.
        failures = 0
        retryAt = nil
        return stale
    }

    /// Holds dials back until `instant` without counting a failure (e.g. the certificate has
    /// expired and waits for renewal).
    mutating func pause(until instant: Instant) {
        retryAt = max(retryAt ?? instant, instant)
    }

    /// The planned wake-up happened.
    mutating func wokeUp() {
        wakeUpPlanned = false
    }

    /// No more dials; every ready connection is returned to be closed.
    mutating func stop() -> [Element] {
        stopped = true
        let all = ready.map(\.element)
        ready = []
        return all
    }

    @discardableResult
    private mutating func failed(at now: Instant) -> Bool {
        failures += 1
        let first = failures == 1
        var delay = firstBackoff
        for _ in 1..<min(failures, 16) where delay < maxBackoff { delay = delay * 2 }
        retryAt = now + min(delay, maxBackoff)
        return first
    }

    private mutating func proven() {
        failures = 0
    }
}

extension WarmPoolBook: Sendable where Element: Sendable {}
extension WarmPoolBook.Entry: Sendable where Element: Sendable {}
