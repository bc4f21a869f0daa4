import NIOCore

/// Reads the commands a MongoDB client sends (command name and `$db`) from the client-to-server
/// byte stream, incrementally and with bounded memory: it reads each message header, keeps at
/// most `maximumMessageBytes` of a message and skips the rest. A message that fits is read with
/// `MongoCommandReader` (OP_MSG, OP_QUERY commands, OP_COMPRESSED); of a larger one only the
/// first key of an OP_MSG body is read (`truncated`). Feed it the stream in chunks split
/// anywhere. A header that breaks the framing stops the tap (`isStopped`); it never throws.
public struct MongoCommandTap: Sendable {
    /// One command read from the stream.
    public struct Command: Sendable, Equatable {
        /// The command's name (first key of the command document).
        public var name: String
        /// `$db`, or the database of a legacy command's collection name; nil when not read.
        public var database: String?
        /// The message was larger than `maximumMessageBytes`; only its start was read.
        public var truncated: Bool

        public init(name: String, database: String?, truncated: Bool) {
            self.name = name
            self.database = database
            self.truncated = truncated
        }
    }

    public let maximumMessageBytes: Int
    private let limits: MongoMessageLimits
    /// The current message's bytes so far (at most `maximumMessageBytes`).
    private var message: [UInt8] = []
    /// Bytes of the current message not yet seen (its header read); nil while reading a header.
    private var remaining: Int?
    private var messageLength = 0
    public private(set) var isStopped = false

    /// `maximumMessageBytes`: how much of one message is kept (at least the 16-byte header).
    public init(maximumMessageBytes: Int = 64 * 1024, limits: MongoMessageLimits = .init()) {
        self.maximumMessageBytes = max(MongoMessageHeader.size, maximumMessageBytes)
        self.limits = limits
    }

    /// Reads `bytes` (the next part of the stream) and returns the commands completed in it.
    public mutating func feed(_ bytes: ByteBuffer) -> [Command] {
        var commands: [Command] = []
        var bytes = bytes
        while !isStopped, bytes.readableBytes > 0 {
            if let left = remaining {
                let count = min(left, bytes.readableBytes)
                let room = max(0, maximumMessageBytes - message.count)
                message.append(contentsOf: bytes.readableBytesView.prefix(min(count, room)))
                bytes.moveReaderIndex(forwardBy: count)
                remaining = left - count
            } else {
                let needed = MongoMessageHeader.size - message.count
                if let part = bytes.readBytes(length: min(needed, bytes.readableBytes)) { message.append(contentsOf: part) }
                guard message.count == MongoMessageHeader.size else { continue }
                let length = Int(Int32(littleEndian: message.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
                guard length >= MongoMessageHeader.size, length <= limits.maximumLength else {
                    isStopped = true
                    break
                }
                messageLength = length
                remaining = length - MongoMessageHeader.size
            }
            if remaining == 0 {
                if let command = finishMessage() { commands.append(command) }
                message.removeAll(keepingCapacity: message.count <= 4096)
                remaining = nil
            }
        }
        return commands
    }

    private func finishMessage() -> Command? {
        var buffer = ByteBuffer(bytes: message)
        guard let header = MongoMessageHeader.peek(in: buffer) else { return nil }
        buffer.moveReaderIndex(forwardBy: MongoMessageHeader.size)
        guard messageLength <= maximumMessageBytes else {
            guard header.opCode == .msg else { return nil }
            return Self.firstBodyKey(of: buffer).map { Command(name: $0, database: nil, truncated: true) }
        }
        let whole = MongoMessage(header: header, body: buffer)
        guard let summary = try? MongoCommandReader.summary(of: whole, limits: limits), let name = summary.commandName else { return nil }
        return Command(name: name, database: summary.database, truncated: false)
    }

    /// The first key of an OP_MSG's kind-0 section when it comes first, read from a prefix.
    private static func firstBodyKey(of body: ByteBuffer) -> String? {
        var body = body
        // flagBits, section kind 0, document length, element type
        guard body.readInteger(as: UInt32.self) != nil, body.readInteger(as: UInt8.self) == 0,
            body.readInteger(as: Int32.self) != nil, let type = body.readInteger(as: UInt8.self), type != 0,
            let end = body.readableBytesView.firstIndex(of: 0)
        else { return nil }
        return body.readString(length: end - body.readerIndex)
    }
}
