import NIOConcurrencyHelpers
import NIOCore

/// Checks that the event loops of a group still run work: each loop is handed an empty task,
/// and a loop that does not run it within the timeout counts as stuck.
public enum EventLoopLiveness {
    /// The loops of `group` that did not run an empty task within `timeout`, described
    /// (empty when all are responsive). Checks all loops at once.
    public static func unresponsiveLoops(in group: any EventLoopGroup, timeout: Duration = .seconds(2)) async -> [String] {
        let loops = Array(group.makeIterator())
        return await withTaskGroup(of: String?.self) { tasks in
            for loop in loops {
                tasks.addTask { await responds(loop, within: timeout) ? nil : "\(loop)" }
            }
            var stuck: [String] = []
            for await result in tasks {
                if let result { stuck.append(result) }
            }
            return stuck
        }
    }

    /// A route that answers 200 while every loop of `group` is responsive, else 503 naming
    /// the stuck ones.
    public static func route(for group: any EventLoopGroup, timeout: Duration = .seconds(2)) -> OperationsRoute {
        { _ in
            let stuck = await unresponsiveLoops(in: group, timeout: timeout)
            guard stuck.isEmpty else {
                return .text(.serviceUnavailable, "event loops not responding within \(timeout): \(stuck.joined(separator: ", "))\n")
            }
            return .text(.ok, "alive\n")
        }
    }

    /// Whether `loop` runs an empty task within `timeout`.
    static func responds(_ loop: any EventLoop, within timeout: Duration) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let once = NIOLockedValueBox<(continuation: CheckedContinuation<Bool, Never>?, timer: Task<Void, Never>?)>((continuation, nil))
            let finish: @Sendable (Bool) -> Void = { answer in
                let (pending, timer) = once.withLockedValue { state in
                    defer { state = (nil, nil) }
                    return (state.continuation, state.timer)
                }
                timer?.cancel()
                pending?.resume(returning: answer)
            }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { finish(false) }
            }
            let alreadyAnswered = once.withLockedValue { state -> Bool in
                guard state.continuation != nil else { return true }
                state.timer = timer
                return false
            }
            if alreadyAnswered { timer.cancel() }
            loop.execute { finish(true) }
        }
    }
}
