import NIOCore
import ServiceLifecycle

extension LocalProxy: Service {
    /// Runs the proxy as a swift-service-lifecycle service: starts it (announcing the address
    /// with a `listening` event), serves until graceful shutdown or cancellation, then drains
    /// open connections for up to `configuration.shutdownDrainTime` and stops.
    public func run() async throws {
        _ = try await start()
        try? await gracefulShutdown()
        let drain = configuration.shutdownDrainTime.components
        let nanoseconds = drain.seconds * 1_000_000_000 + drain.attoseconds / 1_000_000_000
        await stop(deadline: .now() + .nanoseconds(nanoseconds))
    }
}
