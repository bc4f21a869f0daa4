import Dispatch
import Foundation

/// Waits until the process receives SIGINT or SIGTERM.
enum SignalWaiter {
    static func waitForTermination() async -> Int32 {
        let queue = DispatchQueue(label: "dbproxy.signals")
        return await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            queue.async {
                var resumed = false
                var sources: [DispatchSourceSignal] = []
                for number in [SIGINT, SIGTERM] {
                    signal(number, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                    source.setEventHandler {
                        guard !resumed else { return }
                        resumed = true
                        sources.forEach { $0.cancel() }
                        continuation.resume(returning: number)
                    }
                    source.resume()
                    sources.append(source)
                }
            }
        }
    }
}
