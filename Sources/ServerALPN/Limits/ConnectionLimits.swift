import NIOCore
import ProxyCore

/// Limits per client address (the PROXY protocol source from a trusted load balancer, else
/// the socket peer): the router YAML's `proxy_service.connection_limits`, named as in
/// Teleport's `connection_limits`.
public struct ConnectionLimits: Sendable, Hashable, CustomStringConvertible {
    /// Connections one client address may have open at once (nil: no limit).
    public var maxConnections: Int?
    /// New connections one client address may open, as token buckets; a connection needs a
    /// token from every one (empty: no limit).
    public var rates: [ConnectionRate]

    public init(maxConnections: Int? = nil, rates: [ConnectionRate] = []) {
        self.maxConnections = maxConnections
        self.rates = rates
    }

    /// No limit at all.
    public static let none = ConnectionLimits()

    /// `at most 100 open; 20 per 1s, burst 40` (`none` without limits).
    public var description: String {
        let parts = (maxConnections.map { ["at most \($0) open"] } ?? []) + rates.map(\.description)
        return parts.isEmpty ? "none" : parts.joined(separator: "; ")
    }
}

/// A token bucket: `average` new connections per `period`, up to `burst` at once.
public struct ConnectionRate: Sendable, Hashable, CustomStringConvertible {
    public var period: TimeAmount
    public var average: Int
    public var burst: Int

    /// `burst` defaults to `average`.
    public init(period: TimeAmount, average: Int, burst: Int? = nil) {
        self.period = period
        self.average = average
        self.burst = burst ?? average
    }

    /// `20 per 1s, burst 40`.
    public var description: String {
        "\(average) per \(DurationText.format(period)), burst \(burst)"
    }
}
