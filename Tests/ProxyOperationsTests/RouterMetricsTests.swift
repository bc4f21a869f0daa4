import NIOCore
import Prometheus
import ProxyCore
import ProxyOperations
import ServerALPN
import Testing

/// RouterMetrics fed router events directly.
@Suite("Router metrics")
struct RouterMetricsTests {
    private func routed(_ id: UInt64, database: String?, alpn: String?, dial: Duration?) -> RoutedConnection {
        var routed = RoutedConnection(
            connection: id, peer: "127.0.0.1:5000", clientAddress: HostAndPort(host: "127.0.0.1", port: 5000), serverName: "localhost",
            negotiatedProtocol: alpn, destination: HostAndPort(host: "127.0.0.1", port: 5432), database: database, user: "alice",
            pingFramed: alpn?.hasSuffix("-ping") ?? false)
        routed.backendDialDuration = dial
        return routed
    }

    @Test("bytes each way by service and protocol (added at close), dial histogram by protocol, limit refusals by kind")
    func counts() {
        let registry = PrometheusCollectorRegistry()
        let metrics = RouterMetrics(registry: registry)
        let first = routed(1, database: "pg1", alpn: "teleport-postgres-ping", dial: .milliseconds(2))
        let second = routed(2, database: "pg1", alpn: "teleport-postgres", dial: .milliseconds(400))
        let forward = routed(3, database: nil, alpn: nil, dial: nil)
        for event in [RouterEvent.routed(first), .routed(second), .routed(forward)] { metrics.record(event) }
        metrics.record(.closed(ClosedConnection(routed: first, bytesFromClient: 100, bytesToClient: 5000, duration: .seconds(1))))
        metrics.record(.closed(ClosedConnection(routed: second, bytesFromClient: 20, bytesToClient: 7, duration: .seconds(1))))
        metrics.record(.closed(ClosedConnection(routed: forward, bytesFromClient: 3, bytesToClient: 4, duration: .seconds(1))))
        let rate = ConnectionRate(period: .seconds(1), average: 1)
        metrics.record(.rejected(connection: 4, peer: "p", reason: .tooManyConnections(client: "203.0.113.7", limit: 2), clientAddress: nil))
        metrics.record(.rejected(connection: 5, peer: "p", reason: .connectionRateExceeded(client: "203.0.113.7", rate: rate), clientAddress: nil))
        metrics.record(.rejected(connection: 6, peer: "p", reason: .connectionRateExceeded(client: "198.51.100.9", rate: rate), clientAddress: nil))
        let text = registry.emitToString()
        let pg = #"{service="pg1",protocol="teleport-postgres"}"#
        #expect(sample(text, "dbproxy_router_bytes_from_client_total" + pg) == 120)
        #expect(sample(text, "dbproxy_router_bytes_to_client_total" + pg) == 5007)
        #expect(sample(text, #"dbproxy_router_bytes_to_client_total{service="-",protocol="-"}"#) == 4)
        #expect(sample(text, #"dbproxy_router_backend_dial_duration_seconds_count{protocol="teleport-postgres"}"#) == 2)
        #expect(sample(text, #"dbproxy_router_backend_dial_duration_seconds_bucket{protocol="teleport-postgres",le="0.0025"}"#) == 1)
        #expect(sample(text, #"dbproxy_router_backend_dial_duration_seconds_bucket{protocol="teleport-postgres",le="0.5"}"#) == 2)
        #expect(sample(text, #"dbproxy_router_backend_dial_duration_seconds_count{protocol="-"}"#) == nil, "no dial measured, none recorded")
        #expect(sample(text, #"dbproxy_router_connections_rejected_total{reason="connection_limit"}"#) == 1)
        #expect(sample(text, #"dbproxy_router_connections_rejected_total{reason="connection_rate"}"#) == 2)
    }
}
