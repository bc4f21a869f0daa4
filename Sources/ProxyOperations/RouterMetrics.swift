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
///   splice, by `RouterRejection.kind`
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
            let protocolName = routed.negotiatedProtocol.map { ALPNProtocol($0).withoutPing.rawValue } ?? "-"
            registry.makeCounter(
                descriptor: Self.descriptor("connections_routed", unit: "total", help: "Connections spliced to a destination."),
                labels: [("service", routed.database ?? "-"), ("protocol", protocolName)]
            ).increment()
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

    private static func descriptor(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "dbproxy", subsystem: "router", metricName: name, unitName: unit, helpText: help)
    }
}
