/// OP_MSG flagBits. The low 16 bits are required: a set bit this codec does not know is an
/// error. The high 16 bits are optional and ignored when unknown.
public struct MongoOpMsgFlags: OptionSet, Sendable, Hashable {
    /// The flagBits as on the wire.
    public var rawValue: UInt32

    /// Flags from their wire value.
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The message ends with a CRC-32C of everything before it.
    public static let checksumPresent = MongoOpMsgFlags(rawValue: 1 << 0)
    /// The sender will send another message without waiting for a reply (no reply to this one).
    public static let moreToCome = MongoOpMsgFlags(rawValue: 1 << 1)
    /// The client accepts several replies to this request (exhaust cursors).
    public static let exhaustAllowed = MongoOpMsgFlags(rawValue: 1 << 16)

    /// The required (low 16) bits set that this codec does not know.
    public var unknownRequiredBits: UInt32 {
        rawValue & 0xFFFF & ~(Self.checksumPresent.rawValue | Self.moreToCome.rawValue)
    }
}
