import LocalDBProxy
import NIOConcurrencyHelpers

/// Startup and readiness of a set of named local proxies, read from `LocalProxy.status`
/// alone: neither the router nor the database is dialled.
public final class LocalProxyHealth: Sendable {
    /// The proxies, by name, in the order given.
    public let proxies: [(name: String, proxy: LocalProxy)]
    private let started = NIOLockedValueBox(false)

    /// Health of `proxies`.
    public init(proxies: [(name: String, proxy: LocalProxy)]) {
        self.proxies = proxies
    }

    /// True once every proxy is listening or already draining (a proxy that began to stop is
    /// past its startup); stays true after that (a startup probe is only asked until it first
    /// succeeds, and failing it during shutdown would only get the process killed).
    public var isStarted: Bool {
        started.withLockedValue { started in
            if !started, proxies.allSatisfy({ Self.pastStartup($0.proxy.status) }) { started = true }
            return started
        }
    }

    private static func pastStartup(_ status: LocalProxyStatus) -> Bool {
        status.listening || status.draining
    }

    /// `/startup`: 200 once started, else 503 naming the proxies not listening yet.
    public func startup() -> OperationsResponse {
        if isStarted { return .text(.ok, "started\n") }
        let waiting = proxies.filter { !Self.pastStartup($0.proxy.status) }.map(\.name)
        return .text(.serviceUnavailable, "starting: not listening yet: \(waiting.joined(separator: ", "))\n")
    }

    /// `/readiness`: 200 when every proxy is ready (listening, not draining, below its
    /// connection limit), else 503. The body has one line per proxy saying whether it is
    /// ready and, when not, why.
    public func readiness() -> OperationsResponse {
        var ready = true
        var lines: [String] = []
        for (name, proxy) in proxies {
            let status = proxy.status
            ready = ready && status.isReady
            lines.append("\(name): " + Self.explain(status))
        }
        return .text(ready ? .ok : .serviceUnavailable, lines.map { $0 + "\n" }.joined())
    }

    /// One proxy's status in words, e.g. `not ready: draining (1 connection open)`.
    public static func explain(_ status: LocalProxyStatus) -> String {
        let open = status.openConnections == 1 ? "1 connection open" : "\(status.openConnections) connections open"
        if status.draining { return "not ready: draining (\(open))" }
        if !status.listening { return "not ready: not listening" }
        if let limit = status.maxConnections, status.openConnections >= limit {
            return "not ready: at the connection limit (\(status.openConnections) of \(limit) open)"
        }
        return "ready (\(open))"
    }
}
