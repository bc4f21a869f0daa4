/// A server name as a route or a certificate names it: an exact DNS name, or `*.domain`, which
/// matches exactly one label in front of `domain`. Comparison ignores ASCII case.
public struct ServerNamePattern: Sendable, Hashable, CustomStringConvertible {
    /// The lowercased name, or for a wildcard the lowercased domain after `*.`.
    public let name: String
    /// `*.name`: one label in front of `name`.
    public let isWildcard: Bool

    /// Why a text is not a server name pattern.
    public struct Invalid: Error, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `grafana.example.com` or `*.apps.example.com`. Labels are letters, digits, `-` and
    /// `_`, none empty; `*` is allowed only as the whole first label.
    public init(parsing text: String) throws(Invalid) {
        guard !text.isEmpty else { throw Invalid(description: "empty server name") }
        let lowered = text.lowercased()
        var body = Substring(lowered)
        var wildcard = false
        if body.hasPrefix("*.") {
            wildcard = true
            body = body.dropFirst(2)
        }
        let labels = body.split(separator: ".", omittingEmptySubsequences: false)
        guard !body.isEmpty else { throw Invalid(description: "\"\(text)\" names no domain after \"*.\"") }
        for label in labels {
            guard !label.isEmpty else { throw Invalid(description: "\"\(text)\" has an empty label (two dots, or a leading or trailing dot)") }
            if label.contains("*") {
                throw Invalid(description: "\"\(text)\": a wildcard is allowed only as the whole first label, as in *.apps.example.com")
            }
            guard label.utf8.allSatisfy(Self.isLabelByte) else {
                throw Invalid(description: "\"\(text)\": label \"\(label)\" may hold only letters, digits, '-' and '_'")
            }
        }
        name = String(body)
        isWildcard = wildcard
    }

    /// Whether `serverName` (as sent in a ClientHello) is this name, or for a wildcard one label
    /// followed by the domain.
    public func matches(_ serverName: String) -> Bool {
        let candidate = serverName.lowercased()
        guard isWildcard else { return candidate == name }
        guard candidate.hasSuffix("." + name) else { return false }
        let label = candidate.dropLast(name.count + 1)
        return !label.isEmpty && !label.contains(".")
    }

    public var description: String { isWildcard ? "*.\(name)" : name }

    private static func isLabelByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }
}
