import Foundation
import LocalDBProxy
import NIOCore
import ProxyOperations
import Testing

/// `LocalProxyOperations` in front of a real local proxy, router and echo backend, probed over
/// HTTP on loopback.
@Suite("Local proxy operations endpoints", .serialized)
struct LocalProxyOperationsTests {
    /// Asks `path` until `condition` holds (or 10 s pass); returns the last response.
    private func poll(port: Int, _ path: String, until condition: (ProbeResponse) -> Bool) async throws -> ProbeResponse {
        var response = try await HTTPProbe.get(port: port, path)
        for _ in 0..<200 where !condition(response) {
            try await Task.sleep(for: .milliseconds(50))
            response = try await HTTPProbe.get(port: port, path)
        }
        return response
    }

    @Test("/startup and /readiness: 503 before the proxy listens, 200 after; /liveness 200")
    func startupAndReadiness() async throws {
        let chain = try await TestChain.start()
        let proxy = try chain.localProxy()
        let ops = try await LocalProxyOperations.start(address: "127.0.0.1:0", proxies: [("echo1", proxy)])
        let port = ops.boundAddress.port ?? 0
        let before = try await HTTPProbe.get(port: port, "/startup")
        #expect(before.status == 503)
        #expect(before.body == "starting: not listening yet: echo1\n")
        let notReady = try await HTTPProbe.get(port: port, "/readiness")
        #expect(notReady.status == 503)
        #expect(notReady.body == "echo1: not ready: not listening\n")
        _ = try await proxy.start()
        let after = try await HTTPProbe.get(port: port, "/startup")
        #expect(after.status == 200 && after.body == "started\n")
        let ready = try await HTTPProbe.get(port: port, "/readiness")
        #expect(ready.status == 200)
        #expect(ready.body == "echo1: ready (0 connections open)\n")
        let live = try await HTTPProbe.get(port: port, "/liveness")
        #expect(live.status == 200 && live.body == "alive\n")
        await proxy.stop(deadline: .now())
        await ops.stop()
        await chain.stop()
    }

    @Test("bytes through a tunnel: /metrics shows accepted and bytes for the database name")
    func metricsAfterTraffic() async throws {
        let chain = try await TestChain.start()
        let proxy = try chain.localProxy()
        let proxyPort = try await proxy.start().port ?? 0
        let ops = try await LocalProxyOperations.start(address: "127.0.0.1:0", proxies: [("pg1", proxy)])
        let port = ops.boundAddress.port ?? 0
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let echoed = try await RawClient.exchange(port: proxyPort, sending: payload, closeOutput: true)
        #expect(echoed == payload)
        let bytesSeries = #"dbproxy_local_bytes_from_client_total{database="pg1"}"#
        let scrape = try await poll(port: port, "/metrics") { sample($0.body, bytesSeries) == Double(payload.count) }
        #expect(scrape.status == 200)
        #expect(scrape.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        let text = scrape.body
        #expect(sample(text, bytesSeries) == 100_000)
        #expect(sample(text, #"dbproxy_local_bytes_from_router_total{database="pg1"}"#) == 100_000)
        #expect(sample(text, #"dbproxy_local_connections_accepted_total{database="pg1"}"#) == 1)
        #expect(sample(text, #"dbproxy_local_open_connections{database="pg1"}"#) == 0)
        #expect(sample(text, #"dbproxy_local_dial_duration_seconds_count{database="pg1"}"#) == 1)
        let expiry = sample(text, #"dbproxy_local_certificate_expiry_seconds{database="pg1"}"#) ?? 0
        #expect(expiry > 3000 && expiry <= 3600, "\(expiry)")
        await proxy.stop(deadline: .now())
        await ops.stop()
        await chain.stop()
    }

    @Test("/readiness: 503 naming the draining proxy while stop(deadline:) waits for an open connection")
    func readinessWhileDraining() async throws {
        let chain = try await TestChain.start()
        let proxy = try chain.localProxy()
        let proxyPort = try await proxy.start().port ?? 0
        let ops = try await LocalProxyOperations.start(address: "127.0.0.1:0", proxies: [("echo1", proxy)])
        let port = ops.boundAddress.port ?? 0
        #expect(try await HTTPProbe.get(port: port, "/readiness").status == 200)
        let held = try await RawClient.occupy(port: proxyPort)
        _ = try await poll(port: port, "/readiness") { $0.body.contains("1 connection open") }
        let stopping = Task { _ = await proxy.stop(deadline: .now() + .seconds(20)) }
        let draining = try await poll(port: port, "/readiness") { $0.status == 503 }
        #expect(draining.status == 503)
        #expect(draining.body == "echo1: not ready: draining (1 connection open)\n")
        #expect(try await HTTPProbe.get(port: port, "/startup").status == 200)
        #expect(try await HTTPProbe.get(port: port, "/liveness").status == 200)
        try await held.close().get()
        await stopping.value
        await ops.stop()
        await chain.stop()
    }

    @Test("/readiness: 503 at maxConnections, 200 again once a slot frees; the refusal is counted")
    func readinessAtLimit() async throws {
        let chain = try await TestChain.start()
        let proxy = try chain.localProxy(maxConnections: 1)
        let proxyPort = try await proxy.start().port ?? 0
        let ops = try await LocalProxyOperations.start(address: "127.0.0.1:0", proxies: [("echo1", proxy)])
        let port = ops.boundAddress.port ?? 0
        #expect(try await HTTPProbe.get(port: port, "/readiness").status == 200)
        let held = try await RawClient.occupy(port: proxyPort)
        let full = try await poll(port: port, "/readiness") { $0.status == 503 }
        #expect(full.status == 503)
        #expect(full.body == "echo1: not ready: at the connection limit (1 of 1 open)\n")
        // One over the limit: refused (redis has no native error, so the connection just closes).
        _ = try await RawClient.exchange(port: proxyPort, sending: Array("PING\r\n".utf8))
        let refusedSeries = #"dbproxy_local_connections_refused_total{database="echo1",reason="max_connections"}"#
        let scrape = try await poll(port: port, "/metrics") { sample($0.body, refusedSeries) == 1 }
        #expect(sample(scrape.body, refusedSeries) == 1)
        try await held.close().get()
        let again = try await poll(port: port, "/readiness") { $0.status == 200 }
        #expect(again.status == 200)
        await proxy.stop(deadline: .now())
        await ops.stop()
        await chain.stop()
    }

    @Test("events are handed on after counting, and end when the proxy stops")
    func forwardedEvents() async throws {
        let chain = try await TestChain.start()
        let proxy = try chain.localProxy()
        let proxyPort = try await proxy.start().port ?? 0
        let ops = try await LocalProxyOperations.start(address: "127.0.0.1:0", proxies: [("echo1", proxy)])
        _ = try await RawClient.exchange(port: proxyPort, sending: Array("hello".utf8), closeOutput: true)
        let events = try #require(ops.events["echo1"])
        var opened = 0
        var closed = 0
        let collect = Task {
            var names: [String] = []
            for await event in events {
                switch event {
                case .connectionOpened: names.append("opened")
                case .connectionClosed: names.append("closed")
                case .stopped: names.append("stopped")
                default: break
                }
            }
            return names
        }
        // Let the close reach the metrics before stopping (the stream ends at `stopped`).
        let port = ops.boundAddress.port ?? 0
        _ = try await poll(port: port, "/metrics") { sample($0.body, #"dbproxy_local_bytes_from_client_total{database="echo1"}"#) == 5 }
        await proxy.stop(deadline: .now())
        let names = await collect.value
        opened = names.filter { $0 == "opened" }.count
        closed = names.filter { $0 == "closed" }.count
        #expect(opened == 1 && closed == 1, "\(names)")
        #expect(names.last == "stopped")
        await ops.stop()
        await chain.stop()
    }

    @Test("a listen address that is not host:port, or two proxies with one name, are refused")
    func invalidArguments() async throws {
        let chain = try await TestChain.start()
        let proxy = try chain.localProxy()
        await #expect(throws: OperationsServerError.invalidAddress("9090")) {
            try await LocalProxyOperations.start(address: "9090", proxies: [("echo1", proxy)])
        }
        await #expect(throws: OperationsServerError.duplicateName("echo1")) {
            try await LocalProxyOperations.start(address: "127.0.0.1:0", proxies: [("echo1", proxy), ("echo1", proxy)])
        }
        await chain.stop()
    }
}
