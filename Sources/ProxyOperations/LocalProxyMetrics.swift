import Foundation
import LocalDBProxy
import NIOConcurrencyHelpers
import Prometheus
import ProxyCore

/// Prometheus metrics of local proxies, kept in a `PrometheusCollectorRegistry` you pass in
/// (nothing global: no `MetricsSystem.bootstrap`). Every series is labelled `database=<name>`:
///
/// - `dbproxy_local_open_connections` (gauge): tunnels open now
/// - `dbproxy_local_connections_accepted_total`: tunnels opened (`connectionOpened`)
/// - `dbproxy_local_connections_pooled_total`: of those, the ones that used a warm-pool connection
/// - `dbproxy_local_connections_refused_total{reason}`: `connectionFailed`, by `LocalProxyError.kind`
/// - `dbproxy_local_dial_duration_seconds` (histogram, 1 ms ... 10 s): accept to router handshake
/// - `dbproxy_local_bytes_from_client_total`, `dbproxy_local_bytes_from_router_total`: added
///   when a tunnel closes
/// - `dbproxy_local_certificate_expiry_seconds` (gauge): seconds to the certificate's notAfter,
///   as of the last `refreshCertificateExpiry()` (`LocalProxyOperations` calls it on every scrape)
///
/// A `LocalProxy.events` stream has a single consumer. `observe(_:as:)` makes the metrics that
/// consumer and hands every event on through the stream it returns, so an application that
/// also wants the events (to print them) reads that stream instead of `proxy.events`:
///
///     let metrics = LocalProxyMetrics(registry: registry)
///     let events = metrics.observe(proxy, as: "pg1")
///     Task { for await event in events { print(event) } }
///
/// Alternatively, consume `proxy.events` yourself and pass each event to `record(_:database:)`.
public final class LocalProxyMetrics: Sendable {
    /// The registry the collectors live in.
    public let registry: PrometheusCollectorRegistry
    private let now: @Sendable () -> Date
    private let state = NIOLockedValueBox(State())

    private struct State {
        var databases: [String: DatabaseState] = [:]
        var observers: [Task<Void, Never>] = []
    }

    private struct DatabaseState {
        var collectors: LocalProxyCollectors
        var open: Set<UInt64> = []
        /// Connections whose close was seen before their open (events of one connection come
        /// from two channels).
        var closedEarly: Set<UInt64> = []
        /// The proxy's current notAfter (it follows certificate reloads), when observed.
        var currentNotAfter: (@Sendable () -> Date)?
        /// The notAfter of the last certificate event, or as registered.
        var notAfter: Date?

        var effectiveNotAfter: Date? { currentNotAfter?() ?? notAfter }
    }

    /// Metrics in `registry`; `clock` gives "now" for the certificate expiry gauge.
    public init(registry: PrometheusCollectorRegistry, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.registry = registry
        self.now = clock
    }

    /// Becomes the consumer of `proxy.events`, counts every event under `database`, and yields
    /// it on the returned stream (which keeps the newest 1024 events nobody has read yet, and
    /// finishes when `proxy.events` does, after `proxy.stop()`). Do not also iterate
    /// `proxy.events`. The certificate expiry gauge follows `proxy.identity.notAfter`.
    public func observe(_ proxy: LocalProxy, as database: String) -> AsyncStream<LocalProxyEvent> {
        withEntry(database) { $0.currentNotAfter = { proxy.identity.notAfter } }
        refreshCertificateExpiry()
        let (stream, continuation) = AsyncStream.makeStream(of: LocalProxyEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let source = proxy.events
        let task = Task { [self] in
            for await event in source {
                record(event, database: database)
                continuation.yield(event)
            }
            continuation.finish()
        }
        state.withLockedValue { $0.observers.append(task) }
        return stream
    }

    /// Stops consuming the streams passed to `observe` (their forwarded streams finish). Not
    /// needed when the proxies stop: observation ends with their event streams.
    public func stopObserving() {
        let observers = state.withLockedValue { state in
            defer { state.observers = [] }
            return state.observers
        }
        for observer in observers { observer.cancel() }
    }

    /// Makes the collectors of `database` (all series at zero) and sets the certificate's
    /// notAfter, when known. `observe` does this; call it when you use `record` directly.
    public func register(_ database: String, notAfter: Date? = nil) {
        withEntry(database) { entry in
            if let notAfter { entry.notAfter = notAfter }
        }
        refreshCertificateExpiry()
    }

    /// Counts one event of the proxy named `database`.
    public func record(_ event: LocalProxyEvent, database: String) {
        withEntry(database) { apply(event, to: &$0) }
    }

    /// Sets each certificate expiry gauge to the seconds from now to its notAfter.
    public func refreshCertificateExpiry() {
        let date = now()
        state.withLockedValue { state in
            for entry in state.databases.values {
                if let notAfter = entry.effectiveNotAfter {
                    entry.collectors.certificateExpiry.set(notAfter.timeIntervalSince(date))
                }
            }
        }
    }

    /// Runs `body` on the state of `database`, made (with its collectors) on first use.
    private func withEntry(_ database: String, _ body: (inout DatabaseState) -> Void) {
        state.withLockedValue { state in
            var entry = state.databases[database] ?? DatabaseState(collectors: LocalProxyCollectors(database: database, registry: registry))
            body(&entry)
            state.databases[database] = entry
        }
    }

    private func apply(_ event: LocalProxyEvent, to entry: inout DatabaseState) {
        let collectors = entry.collectors
        switch event {
        case .connectionOpened(let opened):
            collectors.accepted.increment()
            if opened.pooled { collectors.pooled.increment() }
            collectors.dialDuration.record(opened.dialDuration)
            if entry.closedEarly.remove(opened.connection) == nil { entry.open.insert(opened.connection) }
        case .connectionClosed(let closed):
            collectors.bytesFromClient.increment(by: Int64(closed.bytesFromClient))
            collectors.bytesFromRouter.increment(by: Int64(closed.bytesFromRouter))
            if entry.open.remove(closed.connection) == nil { entry.closedEarly.insert(closed.connection) }
        case .connectionFailed(_, _, let reason):
            collectors.refused(reason: reason.kind).increment()
        case .certificateExpiring(let notAfter, _), .certificateExpired(let notAfter), .certificateReloaded(let notAfter, _):
            entry.notAfter = notAfter
            collectors.certificateExpiry.set((entry.effectiveNotAfter ?? notAfter).timeIntervalSince(now()))
        case .stopped:
            // Closes that happen after `stopped` are not reported: the stream has finished.
            entry.open = []
            entry.closedEarly = []
        case .listening, .draining:
            break
        }
        collectors.openConnections.set(Double(entry.open.count))
    }
}
