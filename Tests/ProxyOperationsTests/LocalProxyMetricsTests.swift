import Foundation
@testable import LocalDBProxy
import NIOCore
import Prometheus
import ProxyCore
import ProxyOperations
import Testing

/// LocalProxyMetrics fed events directly, and as the consumer of a real proxy's event stream.
@Suite("Local proxy metrics")
struct LocalProxyMetricsTests {
    private func opened(_ id: UInt64, dial: Duration = .milliseconds(3)) -> LocalProxyEvent {
        .connectionOpened(.init(connection: id, client: "127.0.0.1:5000", negotiatedProtocol: "teleport-redis-ping", dialDuration: dial))
    }

    private func closed(_ id: UInt64, fromClient: Int, fromRouter: Int) -> LocalProxyEvent {
        .connectionClosed(.init(connection: id, bytesFromClient: fromClient, bytesFromRouter: fromRouter, duration: .seconds(1)))
    }

    @Test("accepted, refused by reason, bytes, dial histogram and open connections, labelled by database")
    func counts() {
        let registry = PrometheusCollectorRegistry()
        let metrics = LocalProxyMetrics(registry: registry)
        metrics.register("pg1")
        metrics.record(opened(1, dial: .milliseconds(3)), database: "pg1")
        metrics.record(opened(2, dial: .milliseconds(700)), database: "pg1")
        metrics.record(.connectionOpened(.init(connection: 6, client: "c", negotiatedProtocol: nil, dialDuration: .microseconds(50), pooled: true)), database: "pg1")
        metrics.record(closed(6, fromClient: 0, fromRouter: 0), database: "pg1")
        metrics.record(closed(1, fromClient: 100, fromRouter: 2000), database: "pg1")
        metrics.record(.connectionFailed(connection: 3, client: "c", reason: .tooManyConnections(limit: 2)), database: "pg1")
        metrics.record(.connectionFailed(connection: 4, client: "c", reason: .handshakeTimeout), database: "pg1")
        metrics.record(.connectionFailed(connection: 5, client: "c", reason: .tooManyConnections(limit: 2)), database: "pg1")
        metrics.record(opened(1), database: "my1")
        let text = registry.emitToString()
        let pg = #"{database="pg1"}"#
        #expect(sample(text, "dbproxy_local_connections_accepted_total" + pg) == 3)
        #expect(sample(text, "dbproxy_local_connections_pooled_total" + pg) == 1)
        #expect(sample(text, "dbproxy_local_open_connections" + pg) == 1)
        #expect(sample(text, "dbproxy_local_bytes_from_client_total" + pg) == 100)
        #expect(sample(text, "dbproxy_local_bytes_from_router_total" + pg) == 2000)
        #expect(sample(text, #"dbproxy_local_connections_refused_total{database="pg1",reason="max_connections"}"#) == 2)
        #expect(sample(text, #"dbproxy_local_connections_refused_total{database="pg1",reason="handshake_timeout"}"#) == 1)
        #expect(sample(text, "dbproxy_local_dial_duration_seconds_count" + pg) == 3)
        #expect(sample(text, #"dbproxy_local_dial_duration_seconds_bucket{database="pg1",le="0.005"}"#) == 2)
        #expect(sample(text, #"dbproxy_local_dial_duration_seconds_bucket{database="pg1",le="1.0"}"#) == 3)
        #expect(sample(text, #"dbproxy_local_dial_duration_seconds_bucket{database="pg1",le="0.001"}"#) == 1)
        #expect(sample(text, #"dbproxy_local_dial_duration_seconds_bucket{database="pg1",le="10.0"}"#) == 3)
        #expect(sample(text, #"dbproxy_local_connections_accepted_total{database="my1"}"#) == 1)
        #expect(text.contains("# TYPE dbproxy_local_dial_duration_seconds histogram"))
        #expect(text.contains("# TYPE dbproxy_local_open_connections gauge"))
        #expect(text.contains("# TYPE dbproxy_local_connections_accepted_total counter"))
    }

    @Test("a registered database shows every series at zero before any event")
    func zeroes() {
        let registry = PrometheusCollectorRegistry()
        LocalProxyMetrics(registry: registry).register("pg1")
        let text = registry.emitToString()
        for series in [
            "dbproxy_local_connections_accepted_total", "dbproxy_local_connections_pooled_total", "dbproxy_local_open_connections", "dbproxy_local_bytes_from_client_total",
            "dbproxy_local_bytes_from_router_total", "dbproxy_local_dial_duration_seconds_count",
        ] {
            #expect(sample(text, series + #"{database="pg1"}"#) == 0, "\(series)")
        }
    }

    @Test("open connections: a close seen before its open does not go negative; stopped resets")
    func openGauge() {
        let registry = PrometheusCollectorRegistry()
        let metrics = LocalProxyMetrics(registry: registry)
        let series = #"dbproxy_local_open_connections{database="pg1"}"#
        metrics.record(closed(7, fromClient: 1, fromRouter: 1), database: "pg1")
        #expect(sample(registry.emitToString(), series) == 0)
        metrics.record(opened(7), database: "pg1")
        #expect(sample(registry.emitToString(), series) == 0)
        metrics.record(opened(8), database: "pg1")
        metrics.record(opened(9), database: "pg1")
        #expect(sample(registry.emitToString(), series) == 2)
        metrics.record(.draining(openConnections: 2), database: "pg1")
        metrics.record(.stopped, database: "pg1")
        #expect(sample(registry.emitToString(), series) == 0)
    }

    @Test("certificate expiry: seconds from now to notAfter, updated by certificate events and on refresh")
    func certificateExpiry() {
        let registry = PrometheusCollectorRegistry()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let clock = TestClock(start)
        let metrics = LocalProxyMetrics(registry: registry, clock: { clock.now })
        let series = #"dbproxy_local_certificate_expiry_seconds{database="pg1"}"#
        metrics.register("pg1", notAfter: start + 3600)
        #expect(sample(registry.emitToString(), series) == 3600)
        clock.now = start + 600
        #expect(sample(registry.emitToString(), series) == 3600)
        metrics.refreshCertificateExpiry()
        #expect(sample(registry.emitToString(), series) == 3000)
        metrics.record(.certificateReloaded(notAfter: start + 7200, serialNumber: "01"), database: "pg1")
        #expect(sample(registry.emitToString(), series) == 6600)
        clock.now = start + 8000
        metrics.refreshCertificateExpiry()
        #expect(sample(registry.emitToString(), series) == -800)
    }

    @Test("observe consumes a real proxy's events, counts them and hands each one on")
    func observeForwards() async throws {
        let pki = try TestPKI()
        let configuration = LocalProxyConfiguration(routerHost: "127.0.0.1", routerPort: 9, tls: try pki.user(service: "echo1", validFor: 7200))
        let proxy = try LocalProxy(configuration: configuration, logger: TestChain.quietLogger("test.local"))
        let registry = PrometheusCollectorRegistry()
        let metrics = LocalProxyMetrics(registry: registry)
        let forwarded = metrics.observe(proxy, as: "echo1")
        let expiry = sample(registry.emitToString(), #"dbproxy_local_certificate_expiry_seconds{database="echo1"}"#) ?? 0
        #expect(expiry > 7000 && expiry <= 7200, "\(expiry)")
        _ = try await proxy.start()
        await proxy.stop(deadline: .now())
        var seen: [String] = []
        for await event in forwarded {
            switch event {
            case .listening: seen.append("listening")
            case .draining: seen.append("draining")
            case .stopped: seen.append("stopped")
            default: seen.append("other")
            }
        }
        #expect(seen == ["listening", "draining", "stopped"])
    }
}

/// A settable "now" for the expiry gauge.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Date

    init(_ start: Date) { value = start }

    var now: Date {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
