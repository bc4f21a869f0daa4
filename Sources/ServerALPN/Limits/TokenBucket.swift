import NIOCore

/// A token bucket of one `ConnectionRate`, free of clocks: the caller says what time it is.
/// It starts full; tokens come back at `average / period` up to `burst`.
struct TokenBucket: Sendable, Equatable {
    let rate: ConnectionRate
    private(set) var tokens: Double
    private var updated: NIODeadline

    init(rate: ConnectionRate, now: NIODeadline) {
        self.rate = rate
        self.tokens = Double(max(rate.burst, 0))
        self.updated = now
    }

    /// Tokens per nanosecond.
    private var refillRate: Double {
        rate.period.nanoseconds > 0 ? Double(max(rate.average, 0)) / Double(rate.period.nanoseconds) : 0
    }

    /// Adds the tokens earned since the last call (a clock that went back earns nothing).
    mutating func refill(at now: NIODeadline) {
        guard now > updated else { return }
        let elapsed = Double(now.uptimeNanoseconds - updated.uptimeNanoseconds)
        tokens = min(Double(max(rate.burst, 0)), tokens + elapsed * refillRate)
        updated = now
    }

    /// Whether a token is there, after refilling.
    mutating func hasToken(at now: NIODeadline) -> Bool {
        refill(at: now)
        return tokens >= 1
    }

    /// Takes one token; call after `hasToken` said yes.
    mutating func take() {
        tokens = max(tokens - 1, 0)
    }

    /// Whether the bucket is full at `now`: forgetting it changes nothing.
    func isFull(at now: NIODeadline) -> Bool {
        var copy = self
        copy.refill(at: now)
        return copy.tokens >= Double(max(rate.burst, 0))
    }
}
