/// Bounds on a message's length, checked on every header before its body is read.
public struct MongoMessageLimits: Equatable, Sendable {
    /// The shortest possible message: a header alone.
    public static let minimumLength = 16
    /// The server's default maxMessageSizeBytes.
    public static let defaultMaximumLength = 48_000_000

    /// The longest accepted message, header included.
    public var maximumLength: Int

    /// Creates limits accepting messages of up to `maximumLength` bytes.
    public init(maximumLength: Int = MongoMessageLimits.defaultMaximumLength) {
        self.maximumLength = maximumLength
    }

    /// Throws MongoWireError.messageTooShort / .messageTooLong (negative lengths are too short),
    /// and .unknownOpCode for an opcode outside ``MongoOpCode``'s named cases.
    public func validate(_ header: MongoMessageHeader) throws(MongoWireError) {
        guard Int(header.messageLength) >= Self.minimumLength else {
            throw .messageTooShort(length: header.messageLength)
        }
        guard Int(header.messageLength) <= maximumLength else {
            throw .messageTooLong(length: header.messageLength, limit: maximumLength)
        }
        guard header.opCode.isKnown else {
            throw .unknownOpCode(header.opCode.rawValue)
        }
    }
}
