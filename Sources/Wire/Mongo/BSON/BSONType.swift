/// The element type byte of a BSON element.
public enum BSONType: UInt8, Sendable, Hashable {
    /// 64-bit IEEE 754 float.
    case double = 0x01
    /// int32 length, UTF-8 bytes, NUL.
    case string = 0x02
    /// An embedded document.
    case document = 0x03
    /// A document whose keys are "0", "1", ...
    case array = 0x04
    /// int32 length, subtype byte, bytes.
    case binary = 0x05
    /// Deprecated; no value bytes.
    case undefined = 0x06
    /// 12 bytes.
    case objectID = 0x07
    /// One byte, 0 or 1.
    case bool = 0x08
    /// int64 milliseconds since the Unix epoch.
    case dateTime = 0x09
    /// No value bytes.
    case null = 0x0A
    /// Two cstrings: pattern and options.
    case regex = 0x0B
    /// Deprecated: a string and 12 bytes.
    case dbPointer = 0x0C
    /// A string of code.
    case javaScript = 0x0D
    /// Deprecated: a string.
    case symbol = 0x0E
    /// Deprecated: int32 total, a string of code, a scope document.
    case javaScriptWithScope = 0x0F
    /// 32-bit signed integer.
    case int32 = 0x10
    /// uint64 internal timestamp.
    case timestamp = 0x11
    /// 64-bit signed integer.
    case int64 = 0x12
    /// 16-byte IEEE 754 decimal.
    case decimal128 = 0x13
    /// Sorts before everything; no value bytes.
    case minKey = 0xFF
    /// Sorts after everything; no value bytes.
    case maxKey = 0x7F

    /// The size of a fixed-width value, nil for the types whose size is in their bytes.
    var fixedSize: Int? {
        switch self {
        case .undefined, .null, .minKey, .maxKey: return 0
        case .bool: return 1
        case .int32: return 4
        case .double, .dateTime, .timestamp, .int64: return 8
        case .objectID: return 12
        case .decimal128: return 16
        case .string, .document, .array, .binary, .regex, .dbPointer, .javaScript, .symbol, .javaScriptWithScope:
            return nil
        }
    }
}
