import Prometheus

/// The Prometheus collectors of one local proxy, labelled `database=<name>`.
struct LocalProxyCollectors: Sendable {
    let database: String
    let registry: PrometheusCollectorRegistry
    let openConnections: Gauge
    let accepted: Counter
    let pooled: Counter
    let dialDuration: DurationHistogram
    let bytesFromClient: Counter
    let bytesFromRouter: Counter
    let certificateExpiry: Gauge

    /// Dial durations from 1 ms to 10 s.
    static let dialBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .microseconds(2_500_000), .seconds(5), .seconds(10),
    ]

    init(database: String, registry: PrometheusCollectorRegistry) {
        self.database = database
        self.registry = registry
        let labels = [("database", database)]
        openConnections = registry.makeGauge(descriptor: Metric.openConnections, labels: labels)
        accepted = registry.makeCounter(descriptor: Metric.accepted, labels: labels)
        pooled = registry.makeCounter(descriptor: Metric.pooled, labels: labels)
        dialDuration = registry.makeDurationHistogram(descriptor: Metric.dialDuration, labels: labels, buckets: Self.dialBuckets)
        bytesFromClient = registry.makeCounter(descriptor: Metric.bytesFromClient, labels: labels)
        bytesFromRouter = registry.makeCounter(descriptor: Metric.bytesFromRouter, labels: labels)
        certificateExpiry = registry.makeGauge(descriptor: Metric.certificateExpiry, labels: labels)
    }

    /// The refusal counter for `reason` (a `LocalProxyError.kind`), made on first use.
    func refused(reason: String) -> Counter {
        registry.makeCounter(descriptor: Metric.refused, labels: [("database", database), ("reason", reason)])
    }

    /// Names and help texts (one help text per name, as the registry requires).
    enum Metric {
        static var openConnections: MetricNameDescriptor {
            local("open_connections", unit: "", help: "Client connections tunnelled to the router and still open.")
        }
        static var accepted: MetricNameDescriptor {
            local("connections_accepted", unit: "total", help: "Client connections tunnelled to the router.")
        }
        static var pooled: MetricNameDescriptor {
            local("connections_pooled", unit: "total", help: "Client connections that took a pre-handshaken router connection from the warm pool.")
        }
        static var refused: MetricNameDescriptor {
            local("connections_refused", unit: "total", help: "Client connections refused before reaching the database, by reason.")
        }
        static var dialDuration: MetricNameDescriptor {
            local("dial_duration", unit: "seconds", help: "Time from accepting a client to the router's TLS handshake completing.")
        }
        static var bytesFromClient: MetricNameDescriptor {
            local("bytes_from_client", unit: "total", help: "Bytes forwarded from clients to the router, counted when a tunnel closes.")
        }
        static var bytesFromRouter: MetricNameDescriptor {
            local("bytes_from_router", unit: "total", help: "Bytes forwarded from the router to clients, counted when a tunnel closes.")
        }
        static var certificateExpiry: MetricNameDescriptor {
            local("certificate_expiry", unit: "seconds", help: "Seconds until the user certificate's notAfter (negative once expired).")
        }

        /// `dbproxy_local_<name>_<unit>`.
        private static func local(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "dbproxy", subsystem: "local", metricName: name, unitName: unit, helpText: help)
        }
    }
}
