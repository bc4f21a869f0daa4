import NIOCore

/// Reads the statements a PostgreSQL client sends (simple Query text, extended Parse text) from
/// the client-to-server byte stream after the startup packet, incrementally and with bounded
/// memory: it looks at message headers, copies at most `maximumTextBytes` of each statement's
/// text and skips everything else. Feed it the stream in chunks split anywhere. A stream that
/// breaks the framing stops the tap (`isStopped`); it never throws.
public struct PostgresStatementTap: Sendable {
    /// Which message carried a statement.
    public enum Kind: String, Sendable, Equatable {
        /// Simple query protocol ('Q').
        case query
        /// Extended query protocol ('P').
        case parse
    }

    /// One statement read from the stream.
    public struct Statement: Sendable, Equatable {
        public var kind: Kind
        /// The statement text (UTF-8, invalid sequences repaired), at most `maximumTextBytes`.
        public var text: String
        /// The text was longer than `maximumTextBytes` and was cut.
        public var truncated: Bool

        public init(kind: Kind, text: String, truncated: Bool) {
            self.kind = kind
            self.text = text
            self.truncated = truncated
        }
    }

    private enum Phase {
        /// Reading the 5-byte header (type + length); holds the bytes seen so far.
        case header([UInt8])
        /// Skipping the Parse message's statement name (up to its NUL).
        case name(remaining: Int)
        /// Collecting statement text until NUL or the end of the message.
        case text(kind: Kind, remaining: Int, bytes: [UInt8], truncated: Bool, ended: Bool)
        /// Skipping the rest of a message.
        case skip(remaining: Int)
        case stopped
    }

    /// Largest message length accepted (PostgreSQL's own limit is 1 GiB).
    public static let maximumMessageLength = 1 << 30
    public let maximumTextBytes: Int
    private var phase = Phase.header([])

    /// `maximumTextBytes`: how much of one statement's text is kept.
    public init(maximumTextBytes: Int = 64 * 1024) {
        self.maximumTextBytes = max(0, maximumTextBytes)
    }

    /// The framing broke; no more statements will be reported.
    public var isStopped: Bool {
        if case .stopped = phase { return true }
        return false
    }

    /// Reads `bytes` (the next part of the stream) and returns the statements completed in it.
    public mutating func feed(_ bytes: ByteBuffer) -> [Statement] {
        var statements: [Statement] = []
        bytes.withUnsafeReadableBytes { raw in
            var offset = 0
            while offset < raw.count || phaseCompletesWithoutInput {
                if let statement = step(raw, &offset) { statements.append(statement) }
                if isStopped { return }
            }
        }
        return statements
    }

    /// A message whose body is empty ends without further input.
    private var phaseCompletesWithoutInput: Bool {
        switch phase {
        case .text(_, 0, _, _, _), .name(0): true
        default: false
        }
    }

    private mutating func step(_ raw: UnsafeRawBufferPointer, _ offset: inout Int) -> Statement? {
        switch phase {
        case .stopped:
            offset = raw.count
            return nil
        case .header(var header):
            phase = .stopped
            header.append(raw[offset])
            offset += 1
            guard header.count == 5 else {
                phase = .header(header)
                return nil
            }
            let length = Int(header[1]) << 24 | Int(header[2]) << 16 | Int(header[3]) << 8 | Int(header[4])
            guard length >= 4, length <= Self.maximumMessageLength else {
                phase = .stopped
                return nil
            }
            switch header[0] {
            case UInt8(ascii: "Q"): phase = .text(kind: .query, remaining: length - 4, bytes: [], truncated: false, ended: false)
            case UInt8(ascii: "P"): phase = .name(remaining: length - 4)
            default: phase = .skip(remaining: length - 4)
            }
            return nil
        case .skip(let remaining):
            let count = min(remaining, raw.count - offset)
            offset += count
            phase = remaining - count == 0 ? .header([]) : .skip(remaining: remaining - count)
            return nil
        case .name(let remaining):
            guard remaining > 0 else {
                phase = .stopped  // a Parse message without its query string
                return nil
            }
            let count = min(remaining, raw.count - offset)
            let chunk = UnsafeRawBufferPointer(rebasing: raw[offset..<offset + count])
            if let nul = chunk.firstIndex(of: 0) {
                offset += nul + 1
                phase = .text(kind: .parse, remaining: remaining - nul - 1, bytes: [], truncated: false, ended: false)
            } else {
                offset += count
                phase = .name(remaining: remaining - count)
            }
            return nil
        case .text(let kind, let remaining, var bytes, var truncated, var ended):
            phase = .stopped  // releases `bytes` so appending does not copy it
            let count = min(remaining, raw.count - offset)
            let chunk = UnsafeRawBufferPointer(rebasing: raw[offset..<offset + count])
            if !ended {
                let end = chunk.firstIndex(of: 0)
                let part = chunk[..<(end ?? chunk.count)]
                let room = maximumTextBytes - bytes.count
                if part.count > room { truncated = true }
                bytes.append(contentsOf: part.prefix(max(0, room)))
                ended = end != nil
            }
            offset += count
            guard remaining - count == 0 else {
                phase = .text(kind: kind, remaining: remaining - count, bytes: bytes, truncated: truncated, ended: ended)
                return nil
            }
            phase = .header([])
            return Statement(kind: kind, text: String(decoding: bytes, as: UTF8.self), truncated: truncated)
        }
    }
}
