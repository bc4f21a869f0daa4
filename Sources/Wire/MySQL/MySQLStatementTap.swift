import NIOCore

/// Reads the statements a MySQL client sends in the command phase (COM_QUERY and
/// COM_STMT_PREPARE text) from the client-to-server byte stream, incrementally and with bounded
/// memory: it reads frame headers (3-byte length, sequence id), looks at the first payload byte
/// of every packet that starts a command (sequence id 0), copies at most `maximumTextBytes` of
/// its text (across 16 MiB continuation frames) and skips everything else. Packets with another
/// sequence id (LOAD DATA LOCAL contents, authentication exchanges) are skipped. Feed it the
/// stream in chunks split anywhere; it never throws. (Compressed protocol and MySQL 8 query
/// attributes are not read: the text would start with their prefixes.)
public struct MySQLStatementTap: Sendable {
    /// Which command carried a statement.
    public enum Kind: String, Sendable, Equatable {
        /// COM_QUERY (0x03).
        case query = "com_query"
        /// COM_STMT_PREPARE (0x16).
        case prepare = "com_stmt_prepare"
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

    private struct Capture {
        var kind: Kind
        var bytes: [UInt8] = []
        var truncated = false
    }

    private enum Phase {
        /// Reading a 4-byte frame header; holds the bytes seen so far.
        case header([UInt8])
        /// Inside a frame's payload.
        case payload(remaining: Int)
    }

    private static let maximumFrameLength = 0xFF_FFFF
    private static let comQuery: UInt8 = 0x03
    private static let comStmtPrepare: UInt8 = 0x16

    public let maximumTextBytes: Int
    private var phase = Phase.header([])
    /// The current frame is the first of a command packet and its first byte is still unread.
    private var awaitingCommandByte = false
    /// The current frame is full length: the packet goes on in the next frame.
    private var packetContinues = false
    /// The previous frame was full length, so this frame continues its packet.
    private var inContinuation = false
    private var capture: Capture?

    /// `maximumTextBytes`: how much of one statement's text is kept.
    public init(maximumTextBytes: Int = 64 * 1024) {
        self.maximumTextBytes = max(0, maximumTextBytes)
    }

    /// Reads `bytes` (the next part of the stream) and returns the statements completed in it.
    public mutating func feed(_ bytes: ByteBuffer) -> [Statement] {
        var statements: [Statement] = []
        bytes.withUnsafeReadableBytes { raw in
            var offset = 0
            while true {
                if case .payload(0) = phase {
                    if let statement = endFrame() { statements.append(statement) }
                    continue
                }
                guard offset < raw.count else { return }
                step(raw, &offset)
            }
        }
        return statements
    }

    private mutating func step(_ raw: UnsafeRawBufferPointer, _ offset: inout Int) {
        switch phase {
        case .header(var header):
            phase = .payload(remaining: 0)
            header.append(raw[offset])
            offset += 1
            guard header.count == 4 else {
                phase = .header(header)
                return
            }
            let length = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16
            let startsCommand = !inContinuation && header[3] == 0
            awaitingCommandByte = startsCommand
            if !inContinuation { capture = nil }
            packetContinues = length == Self.maximumFrameLength
            phase = .payload(remaining: length)
        case .payload(let remaining):
            let first = offset
            let end = offset + min(remaining, raw.count - offset)
            var start = offset
            if awaitingCommandByte {
                awaitingCommandByte = false
                switch raw[start] {
                case Self.comQuery: capture = Capture(kind: .query)
                case Self.comStmtPrepare: capture = Capture(kind: .prepare)
                default: capture = nil
                }
                start += 1
            }
            if var current = capture {
                capture = nil  // releases the bytes so appending does not copy them
                let room = maximumTextBytes - current.bytes.count
                let part = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                if part.count > room { current.truncated = true }
                current.bytes.append(contentsOf: part.prefix(max(0, room)))
                capture = current
            }
            offset = end
            phase = .payload(remaining: remaining - (end - first))
        }
    }

    /// A frame's payload is read: a packet that ends here completes its statement.
    private mutating func endFrame() -> Statement? {
        phase = .header([])
        awaitingCommandByte = false
        inContinuation = packetContinues
        guard !packetContinues, let current = capture else { return nil }
        capture = nil
        return Statement(kind: current.kind, text: String(decoding: current.bytes, as: UTF8.self), truncated: current.truncated)
    }
}
