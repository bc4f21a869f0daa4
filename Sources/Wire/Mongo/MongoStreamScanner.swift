import NIOCore

/// Header-only scanner for pass-through forwarding without reassembly: feed it each chunk as it
/// passes; it checks every header that begins in the stream (headers may be split across chunks)
/// and counts messages; throws on a bad header. Bodies are skipped, never copied.
public struct MongoStreamScanner: Sendable {
    /// The bounds every header is checked against; may be raised between chunks.
    public var limits: MongoMessageLimits
    /// Headers checked so far.
    public private(set) var messageCount = 0
    /// Body bytes still to pass before the next header.
    public private(set) var remainingBodyBytes = 0
    /// The bytes of a header split across chunks (fewer than 16).
    private var partialHeader: [UInt8] = []
    /// The error thrown before; once broken the stream stays broken.
    private var failure: MongoWireError?

    /// Creates a scanner at the start of a stream.
    public init(limits: MongoMessageLimits = .init()) {
        self.limits = limits
    }

    /// Whether the stream so far ends exactly between two messages.
    public var isAtMessageBoundary: Bool { remainingBodyBytes == 0 && partialHeader.isEmpty }

    /// Scans the next chunk of the stream; returns how many headers were completed in it.
    public mutating func scan(_ chunk: ByteBuffer) throws(MongoWireError) -> Int {
        try scan(chunk) { _ in }
    }

    /// Scans the next chunk, calling `onHeader` with each header completed in it (after it has
    /// been validated); returns how many there were.
    public mutating func scan(_ chunk: ByteBuffer, onHeader: (MongoMessageHeader) -> Void) throws(MongoWireError) -> Int {
        if let failure { throw failure }
        var index = chunk.readerIndex
        let end = chunk.writerIndex
        var completed = 0
        while index < end {
            if remainingBodyBytes > 0 {
                let skipped = min(remainingBodyBytes, end - index)
                remainingBodyBytes -= skipped
                index += skipped
                continue
            }
            let header: MongoMessageHeader
            if partialHeader.isEmpty, let whole = MongoMessageHeader.peek(in: chunk, at: index) {
                header = whole
                index += MongoMessageHeader.size
            } else {
                let wanted = min(MongoMessageHeader.size - partialHeader.count, end - index)
                partialHeader += chunk.getBytes(at: index, length: wanted) ?? []
                index += wanted
                guard partialHeader.count == MongoMessageHeader.size,
                      let joined = MongoMessageHeader.peek(in: ByteBuffer(bytes: partialHeader))
                else { continue }
                partialHeader.removeAll(keepingCapacity: true)
                header = joined
            }
            do {
                try limits.validate(header)
            } catch {
                failure = error
                throw error
            }
            remainingBodyBytes = Int(header.messageLength) - MongoMessageHeader.size
            messageCount += 1
            completed += 1
            onHeader(header)
        }
        return completed
    }
}
