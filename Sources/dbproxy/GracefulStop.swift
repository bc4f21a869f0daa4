import Foundation
import LocalDBProxy
import NIOCore
import ProxyCore

/// What `dbproxy proxy` does on SIGTERM or SIGINT: stop accepting, let open connections finish
/// for up to `maxDelay`, and stop at once on a second signal.
struct GracefulStop {
    var proxies: [LocalProxy]
    var maxDelay: TimeAmount
    var signals: TerminationSignals

    /// Waits for the first signal, drains, and returns the exit status: 0 once drained or the
    /// delay passed, 128 + the signal's number when a second signal cut the wait short.
    func run() async -> Int32 {
        var deliveries = signals.deliveries.makeAsyncIterator()
        guard let first = await deliveries.next() else { return 0 }
        let open = proxies.reduce(0) { $0 + $1.openConnections }
        guard maxDelay > .zero, open > 0 else {
            say("Stopping on \(TerminationSignals.name(first)): \(Self.connections(open)) open\(open > 0 ? "; closing now" : "").")
            await stopAll(deadline: .now())
            return 0
        }
        say("Draining: \(Self.connections(open)) open; waiting up to \(DurationText.format(maxDelay)) (send the signal again to stop now)")
        let deadline = NIODeadline.now() + maxDelay
        Task { [self] in
            await stopAll(deadline: deadline)
            signals.finish()
        }
        if let second = await deliveries.next() {
            let left = proxies.reduce(0) { $0 + $1.openConnections }
            // The process exits with this status; its sockets close with it.
            say("Stopping now on a second \(TerminationSignals.name(second)): closing \(Self.connections(left)).")
            return 128 + second
        }
        let passed = NIODeadline.now() >= deadline
        say(passed ? "Stopped: \(DurationText.format(maxDelay)) passed; closed the connections still open." : "Stopped: all connections finished.")
        return 0
    }

    private func stopAll(deadline: NIODeadline) async {
        await withTaskGroup(of: Void.self) { group in
            for proxy in proxies {
                group.addTask { await proxy.stop(deadline: deadline) }
            }
        }
    }

    /// `1 connection`, `2 connections`.
    static func connections(_ count: Int) -> String {
        "\(count) connection\(count == 1 ? "" : "s")"
    }
}
