/// Measures elapsed wall-clock time and derives throughput figures.
public struct Stopwatch {
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    public init() {
        start = clock.now
    }

    public var seconds: Double {
        let elapsed = clock.now - start
        let parts = elapsed.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// Throughput in MiB (2^20 bytes) per second.
    public static func mebibytesPerSecond(bytes: Int, seconds: Double) -> Double {
        seconds > 0 ? Double(bytes) / 1_048_576 / seconds : 0
    }
}
