#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes the tool's machine-readable `key=value` lines to stdout, one fact per line.
public enum Output {
    public static func fact(_ key: String, _ value: String) {
        print("\(key)=\(singleLine(value))")
    }

    /// A human-readable message on stderr (unbuffered `write`, no shared `stderr` global).
    public static func diagnostic(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(2, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            guard written > 0 else { return }
            offset += written
        }
    }

    public static func fact(_ key: String, _ value: Int) {
        fact(key, String(value))
    }

    public static func fact(_ key: String, _ value: Double) {
        fact(key, format(value))
    }

    /// Formats a non-negative figure with three decimals, without Foundation's locale handling.
    public static func format(_ value: Double) -> String {
        guard value.isFinite, value >= 0 else { return "0.000" }
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// Collapses multi-line text (client library error messages) so it fits one `key=value` line.
    public static func singleLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { line in String(line.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()) }
            .filter { !$0.isEmpty }
            .joined(separator: " | ")
    }
}

extension Output {
    /// Reports a failed run: `result=fail`, `error=...`, the message (and the usage text for
    /// command-line mistakes) on stderr. Returns the exit status, 1.
    public static func failed(_ error: any Error, tool: String, usage: String) -> Int32 {
        let message = "\(error)"
        fact("result", "fail")
        fact("error", message)
        diagnostic("\(tool): \(message)")
        if let failure = error as? Failure, failure.showsUsage {
            diagnostic(usage)
        }
        return 1
    }
}
