import LocalDBProxy
import Logging
import NIOCore
import NIOPosix
import Prometheus

/// Health checks and Prometheus metrics for a set of named local proxies, served over HTTP:
///
///     let ops = try await LocalProxyOperations.start(address: "127.0.0.1:9090", proxies: [("pg1", proxy)])
///     Task { for await event in ops.events["pg1"] ?? AsyncStream { $0.finish() } { print(event) } }
///     ...
///     await ops.stop()
///
/// - `/startup`: 200 once every proxy is listening, 503 before
/// - `/liveness`: 200 while the event loops run work
/// - `/readiness`: 200 while every proxy takes connections, else 503 with the reasons
/// - `/metrics`: the registry in the Prometheus text format (see `LocalProxyMetrics`)
///
/// It becomes the consumer of each proxy's `events` stream: read the events from `events`
/// instead. It may start before the proxies do (then `/startup` answers 503 until they listen).
public final class LocalProxyOperations: Sendable {
    /// The HTTP server.
    public let server: OperationsServer
    /// The address the server is bound to.
    public let boundAddress: SocketAddress
    /// The metrics, and through them the registry served at `/metrics`.
    public let metrics: LocalProxyMetrics
    /// Startup and readiness of the proxies.
    public let health: LocalProxyHealth
    /// Each proxy's events, by name, handed on after they were counted.
    public let events: [String: AsyncStream<LocalProxyEvent>]

    private init(
        server: OperationsServer, boundAddress: SocketAddress, metrics: LocalProxyMetrics, health: LocalProxyHealth,
        events: [String: AsyncStream<LocalProxyEvent>]
    ) {
        self.server = server
        self.boundAddress = boundAddress
        self.metrics = metrics
        self.health = health
        self.events = events
    }

    /// Starts serving on `address` (`host:port`, e.g. `127.0.0.1:9090`; port 0: any free port).
    /// Throws `OperationsServerError.invalidAddress` or `.duplicateName`, or when it cannot bind.
    public static func start(
        address: String, proxies: [(name: String, proxy: LocalProxy)],
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "dbproxy.operations")
    ) async throws -> LocalProxyOperations {
        guard let parsed = OperationsAddress(parsing: address) else { throw OperationsServerError.invalidAddress(address) }
        return try await start(address: parsed, proxies: proxies, registry: registry, group: group, logger: logger)
    }

    /// Starts serving on `address`; see `start(address:proxies:registry:group:logger:)`.
    public static func start(
        address: OperationsAddress, proxies: [(name: String, proxy: LocalProxy)],
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "dbproxy.operations")
    ) async throws -> LocalProxyOperations {
        var names = Set<String>()
        for (name, _) in proxies where !names.insert(name).inserted {
            throw OperationsServerError.duplicateName(name)
        }
        let metrics = LocalProxyMetrics(registry: registry)
        let health = LocalProxyHealth(proxies: proxies)
        let server = OperationsServer(
            address: address, group: group, routes: routes(health: health, metrics: metrics, group: group), logger: logger)
        let bound = try await server.start()
        var events: [String: AsyncStream<LocalProxyEvent>] = [:]
        for (name, proxy) in proxies {
            events[name] = metrics.observe(proxy, as: name)
        }
        return LocalProxyOperations(server: server, boundAddress: bound, metrics: metrics, health: health, events: events)
    }

    /// The routes `start` serves: `/startup`, `/liveness`, `/readiness` and `/metrics`.
    public static func routes(
        health: LocalProxyHealth, metrics: LocalProxyMetrics, group: any EventLoopGroup
    ) -> [String: OperationsRoute] {
        [
            "/startup": { _ in health.startup() },
            "/liveness": EventLoopLiveness.route(for: group),
            "/readiness": { _ in health.readiness() },
            "/metrics": { _ in
                metrics.refreshCertificateExpiry()
                let body = ByteBuffer(bytes: metrics.registry.emitToBuffer())
                return OperationsResponse(status: .ok, contentType: OperationsResponse.prometheusContentType, body: body)
            },
        ]
    }

    /// Stops serving. The proxies' events still reach `events` until the proxies stop.
    public func stop() async {
        await server.stop()
    }
}
