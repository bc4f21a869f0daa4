import Dispatch
import Foundation

/// Reports every SIGHUP from the moment it is made (the router reloads its configuration on it).
final class HangupSignals: Sendable {
    /// One element per SIGHUP received.
    let deliveries: AsyncStream<Void>

    init() {
        let (deliveries, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.deliveries = deliveries
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "dbproxy.sighup"))
        source.setEventHandler { withExtendedLifetime(source) { _ = continuation.yield() } }
        source.resume()
    }
}
