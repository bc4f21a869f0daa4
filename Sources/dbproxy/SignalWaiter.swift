import Dispatch
import Foundation

/// Catches SIGINT and SIGTERM from the moment it is made and reports every delivery, so a
/// first signal can start a graceful stop and a second one cut it short.
final class TerminationSignals: Sendable {
    /// One element per signal received, in order; ends after `finish()`.
    let deliveries: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation

    init() {
        (deliveries, continuation) = AsyncStream.makeStream(of: Int32.self)
        let queue = DispatchQueue(label: "dbproxy.signals")
        for number in [SIGINT, SIGTERM] {
            // Ignored first, so the default action never ends the process before the source sees it.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            // The handler holds its source, so the source lives as long as the process.
            source.setEventHandler { [continuation] in
                withExtendedLifetime(source) { _ = continuation.yield(number) }
            }
            source.resume()
        }
    }

    /// Ends `deliveries`: a waiter that is still waiting gets nil.
    func finish() {
        continuation.finish()
    }

    /// Waits for the first signal.
    func first() async -> Int32? {
        for await number in deliveries { return number }
        return nil
    }

    /// A signal's name for messages: SIGINT, SIGTERM.
    static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(number)"
        }
    }
}

/// Waits until the process receives SIGINT or SIGTERM.
enum SignalWaiter {
    static func waitForTermination() async -> Int32 {
        await TerminationSignals().first() ?? SIGTERM
    }
}
