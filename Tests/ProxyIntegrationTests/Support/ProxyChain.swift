import Foundation
import LocalDBProxy
import Logging
import NIOCore
import NIOSSL
import ProxyCore
import ServerALPN

/// Collects the events of an AsyncStream so tests can wait for one.
actor EventRecorder<Event: Sendable> {
    private(set) var events: [Event] = []

    nonisolated func record(_ stream: AsyncStream<Event>) {
        Task { for await event in stream { await self.append(event) } }
    }

    private func append(_ event: Event) { events.append(event) }

    /// Waits until an event matches `predicate`; returns it.
    func first<T: Sendable>(timeout: Duration = .seconds(10), _ predicate: @Sendable (Event) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for event in events { if let found = predicate(event) { return found } }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestTimeout(what: "no matching event within \(timeout); saw \(events)")
    }

    /// Waits until at least `count` events match `transform`; returns every match so far, in order.
    func matches<T: Sendable>(atLeast count: Int, timeout: Duration = .seconds(10), _ transform: @Sendable (Event) -> T?) async throws -> [T] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found = events.compactMap(transform)
            if found.count >= count { return found }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestTimeout(what: "fewer than \(count) matching events within \(timeout); saw \(events)")
    }
}

/// Router and local proxy running in this process in front of a test backend.
struct ProxyChain {
    let pki: TestPKI
    let backend: TestBackend
    let router: Router
    let routerAddress: SocketAddress
    let routerEvents = EventRecorder<RouterEvent>()

    static func start(
        backend behaviour: TestBackend.Behaviour = .echo, pingFraming: Bool = true,
        handshakeTimeout: TimeAmount = .seconds(15), loginTimeout: TimeAmount = .seconds(60), pki: TestPKI? = nil, databases extraDatabases: [DatabaseRoute] = [],
        extraRoutes: (HostAndPort) -> [Route] = { _ in [] }
    ) async throws -> ProxyChain {
        let pki = try pki ?? TestPKI()
        let backend = try await TestBackend.start(behaviour)
        let backendAddress = HostAndPort(host: "127.0.0.1", port: backend.port)
        let configuration = RouterConfiguration(
            listenAddress: HostAndPort(host: "127.0.0.1", port: 0),
            certificateChain: try pki.serverChain, privateKey: try pki.serverKey, clientCA: try pki.userCACertificates,
            routes: extraRoutes(backendAddress),
            databases: [DatabaseRoute(name: "echo1", databaseProtocol: .redis, address: backendAddress)] + extraDatabases,
            pingInterval: .milliseconds(50), pingFraming: pingFraming,
            timeouts: ProxyTimeouts(handshake: handshakeTimeout, connect: .seconds(5), login: loginTimeout))
        var logger = Logger(label: "test.router")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let router = Router(configuration: configuration, logger: logger)
        let chain = ProxyChain(pki: pki, backend: backend, router: router, routerAddress: try await router.start())
        chain.routerEvents.record(router.events)
        return chain
    }

    var routerPort: Int { routerAddress.port ?? 0 }

    /// Starts a local proxy for `material` pointed at this router (SNI `localhost`).
    func localProxy(
        _ material: TLSMaterial, localTLS: TLSMaterial? = nil, timeouts: ProxyTimeouts = .init(), unixSocketPath: String? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }, configure: (inout LocalProxyConfiguration) -> Void = { _ in }
    ) async throws -> (LocalProxy, Int, EventRecorder<LocalProxyEvent>) {
        var configuration = LocalProxyConfiguration(
            routerHost: "127.0.0.1", routerPort: routerPort, tls: material, serverName: "localhost", timeouts: timeouts,
            localTLS: localTLS, unixSocketPath: unixSocketPath)
        configure(&configuration)
        var logger = Logger(label: "test.local")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let proxy = try LocalProxy(configuration: configuration, logger: logger, clock: clock)
        let recorder = EventRecorder<LocalProxyEvent>()
        recorder.record(proxy.events)
        let address = try await proxy.start()
        return (proxy, address.port ?? 0, recorder)
    }

    func stop() async {
        await router.stop(deadline: .now() + .seconds(1))
        await backend.stop()
    }
}
