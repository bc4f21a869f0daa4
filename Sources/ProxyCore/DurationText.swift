import Foundation
import NIOCore

/// Durations written as in configuration files: `500ms`, `15s`, `2m`, `1h`, `0`.
public enum DurationText {
    public static func parse(_ text: String) -> TimeAmount? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "0" { return .zero }
        let units: [(String, (Int64) -> TimeAmount)] = [
            ("ms", { .milliseconds($0) }), ("s", { .seconds($0) }), ("m", { .minutes($0) }), ("h", { .hours($0) }),
        ]
        for (suffix, make) in units where trimmed.hasSuffix(suffix) {
            guard let value = Int64(trimmed.dropLast(suffix.count)), value >= 0, value < 1_000_000 else { return nil }
            return make(value)
        }
        return nil
    }

    /// The shortest exact form of `amount` in the same notation: `60s`, `1500ms`, `2m`.
    public static func format(_ amount: TimeAmount) -> String {
        let milliseconds = amount.nanoseconds / 1_000_000
        if milliseconds == 0 { return amount.nanoseconds == 0 ? "0" : "\(amount.nanoseconds)ns" }
        for (unit, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1000)] where milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }
}
