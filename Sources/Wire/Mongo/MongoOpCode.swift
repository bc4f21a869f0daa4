/// The opCode of a MongoDB message header.
public enum MongoOpCode: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// OP_REPLY (1): a reply to OP_QUERY or OP_GET_MORE.
    case reply
    /// OP_UPDATE (2001), legacy.
    case update
    /// OP_INSERT (2002), legacy.
    case insert
    /// OP_QUERY (2004), legacy except for the first hello/isMaster of old drivers.
    case query
    /// OP_GET_MORE (2005), legacy.
    case getMore
    /// OP_DELETE (2006), legacy.
    case delete
    /// OP_KILL_CURSORS (2007), legacy.
    case killCursors
    /// OP_COMPRESSED (2012): another message, compressed.
    case compressed
    /// OP_MSG (2013): the message of MongoDB 3.6 and later.
    case msg
    /// Any other value.
    case unknown(Int32)

    /// The opcode for a header value; values not listed above become ``unknown(_:)``.
    public init(rawValue: Int32) {
        switch rawValue {
        case 1: self = .reply
        case 2001: self = .update
        case 2002: self = .insert
        case 2004: self = .query
        case 2005: self = .getMore
        case 2006: self = .delete
        case 2007: self = .killCursors
        case 2012: self = .compressed
        case 2013: self = .msg
        default: self = .unknown(rawValue)
        }
    }

    /// The value written in a header.
    public var rawValue: Int32 {
        switch self {
        case .reply: return 1
        case .update: return 2001
        case .insert: return 2002
        case .query: return 2004
        case .getMore: return 2005
        case .delete: return 2006
        case .killCursors: return 2007
        case .compressed: return 2012
        case .msg: return 2013
        case .unknown(let value): return value
        }
    }

    /// Whether this is one of the opcodes above rather than ``unknown(_:)``.
    public var isKnown: Bool {
        if case .unknown = MongoOpCode(rawValue: rawValue) { return false }
        return true
    }


    /// Opcodes are equal when their header values are (so `.unknown(2013) == .msg`).
    public static func == (lhs: MongoOpCode, rhs: MongoOpCode) -> Bool { lhs.rawValue == rhs.rawValue }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public var description: String {
        switch self {
        case .reply: return "OP_REPLY"
        case .update: return "OP_UPDATE"
        case .insert: return "OP_INSERT"
        case .query: return "OP_QUERY"
        case .getMore: return "OP_GET_MORE"
        case .delete: return "OP_DELETE"
        case .killCursors: return "OP_KILL_CURSORS"
        case .compressed: return "OP_COMPRESSED"
        case .msg: return "OP_MSG"
        case .unknown(let value): return "opcode \(value)"
        }
    }
}
