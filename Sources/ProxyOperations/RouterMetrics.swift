import NIOConcurrencyHelpers
import Prometheus
import ProxyCore
import ServerALPN

/// Prometheus metrics of a router, kept in a `PrometheusCollectorRegistry` you pass in:
///
/// - `dbproxy_router_open_connections` (gauge): connections open now, as of the last scrape
/// - `dbproxy_router_connections_routed_total{service, protocol}`: connections spliced, by
///   database service (`-` for other routes) and negotiated ALPN protocol without `-ping`
/// - `dbproxy_router_connections_rejected_total{reason}`: refused or dropped before the
///   splice, by `RouterRejection.kind` (`connection_limit` and `connection_rate` for the
///   per-client-address limits)
/// - `dbproxy_router_bytes_from_client_total{service, protocol}`,
///   `dbproxy_router_bytes_to_client_total{service, protocol}`: bytes the splice carried each
///   way, added when a connection closes (labels as for `connections_routed`)
/// - `dbproxy_router_backend_dial_duration_seconds{protocol}` (histogram, 1 ms ... 10 s): time
///   to establish the TCP connection to the database or forward target
/// - `dbproxy_router_audit_dropped_records` (gauge): audit records dropped because the audit
///   queue was full, as of the last scrape (0 without an audit log)
///
/// Like `LocalProxyMetrics`, it becomes the consumer of `router.events` and hands every event
/// on through the stream `observe` returns.
public final class RouterMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let openConnections: Gauge
    private let auditDropped: Gauge
    private let observer = NIOLockedValueBox<Task<Void, Never>?>(nil)

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        openConnections = registry.makeGauge(descriptor: Self.descriptor("open_connections", unit: "", help: "Connections open now."))
        auditDropped = registry.makeGauge(descriptor: Self.descriptor(
            "audit_dropped_records", unit: "", help: "Audit records dropped because the audit queue was full."))
    }

    /// Counts `router`'s events and hands each on through the returned stream.
    public func observe(_ router: Router) -> AsyncStream<RouterEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: RouterEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let task = Task { [self] in
            for await event in router.events {
                record(event)
                continuation.yield(event)
            }
            continuation.finish()
        }
        observer.withLockedValue { $0 = task }
        return stream
    }

    /// Counts one event.
    public func record(_ event: RouterEvent) {
        switch event {
        case .routed(let routed):
            registry.makeCounter(
                descriptor: Self.descriptor("connections_routed", unit: "total", help: "Connections spliced to a destination."),
                labels: Self.routeLabels(routed)
            ).increment()
            if let dial = routed.backendDialDuration {
                registry.makeDurationHistogram(
                    descriptor: Self.descriptor(
                        "backend_dial_duration", unit: "seconds", help: "Time to establish the TCP connection to the database or forward target."),
                    labels: [("protocol", Self.protocolLabel(routed))], buckets: Self.dialBuckets
                ).record(dial)
            }
        case .closed(let closed):
            let labels = Self.routeLabels(closed.routed)
            registry.makeCounter(
                descriptor: Self.descriptor("bytes_from_client", unit: "total", help: "Bytes the splice carried from clients to destinations, added when a connection closes."),
                labels: labels
            ).increment(by: Int64(closed.bytesFromClient))
            registry.makeCounter(
                descriptor: Self.descriptor("bytes_to_client", unit: "total", help: "Bytes the splice carried from destinations to clients, added when a connection closes."),
                labels: labels
            ).increment(by: Int64(closed.bytesToClient))
        case .rejected(_, _, let reason, _):
            registry.makeCounter(
                descriptor: Self.descriptor("connections_rejected", unit: "total", help: "Connections refused or dropped before the splice, by reason."),
                labels: [("reason", reason.kind)]
            ).increment()
        case .listening, .stopped:
            break
        }
    }

    /// Sets the gauges that are read rather than counted.
    public func refresh(from router: Router) {
        openConnections.set(Int64(router.openConnections))
        auditDropped.set(Int64(router.audit?.droppedRecords ?? 0))
    }

    /// Dial durations from 1 ms to 10 s.
    static let dialBuckets: [Duration] = LocalProxyCollectors.dialBuckets

    /// The negotiated ALPN protocol without `-ping` (`-`: none).
    private static func protocolLabel(_ routed: RoutedConnection) -> String {
        routed.negotiatedProtocol.map { ALPNProtocol($0).withoutPing.rawValue } ?? "-"
    }

    /// `service` (the database, `-` for other routes) and `protocol`.
    private static func routeLabels(_ routed: RoutedConnection) -> [(String, String)] {
        [("service", routed.database ?? "-"), ("protocol", protocolLabel(routed))]
    }

    private static func descriptor(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "dbproxy", subsystem: "router", metricName: name, unitName: unit, helpText: help)
    }
}
