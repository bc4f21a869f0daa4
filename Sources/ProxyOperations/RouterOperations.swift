import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServerALPN

/// Health checks and Prometheus metrics of a router, served over HTTP:
///
/// - `/healthz`: 200 while the event loops run work
/// - `/readyz`: 200 while the router listens and is not stopping (a load balancer stops
///   sending new connections during a drain), 503 otherwise
/// - `/metrics`: the registry in the Prometheus text format (see `RouterMetrics`)
///
/// It becomes the consumer of `router.events`: read them from `events` instead.
public final class RouterOperations: Sendable {
    public let server: OperationsServer
    public let boundAddress: SocketAddress
    public let metrics: RouterMetrics
    /// The router's events, handed on after they were counted.
    public let events: AsyncStream<RouterEvent>

    private init(server: OperationsServer, boundAddress: SocketAddress, metrics: RouterMetrics, events: AsyncStream<RouterEvent>) {
        self.server = server
        self.boundAddress = boundAddress
        self.metrics = metrics
        self.events = events
    }

    /// Starts serving on `address` (`host:port`; port 0: any free port).
    public static func start(
        address: String, router: Router, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "dbproxy.operations")
    ) async throws -> RouterOperations {
        guard let parsed = OperationsAddress(parsing: address) else { throw OperationsServerError.invalidAddress(address) }
        let metrics = RouterMetrics(registry: registry)
        let routes: [String: OperationsRoute] = [
            "/healthz": EventLoopLiveness.route(for: group),
            "/readyz": { _ in
                router.isReady
                    ? .text(.ok, "ready\n")
                    : .text(.serviceUnavailable, "not ready: \(router.openConnections) connections open; not accepting new ones\n")
            },
            "/metrics": { _ in
                metrics.refresh(from: router)
                return OperationsResponse(
                    status: .ok, contentType: OperationsResponse.prometheusContentType, body: ByteBuffer(bytes: metrics.registry.emitToBuffer()))
            },
        ]
        let server = OperationsServer(address: parsed, group: group, routes: routes, logger: logger)
        let bound = try await server.start()
        return RouterOperations(server: server, boundAddress: bound, metrics: metrics, events: metrics.observe(router))
    }

    public func stop() async {
        await server.stop()
    }
}
