import NIOCore

/// One regular (typed) protocol message: a type byte and its body, without the length field.
public struct PostgresMessage: Sendable, Hashable {
    /// The type byte, e.g. `R` (0x52) for Authentication; see `PostgresMessageType`.
    public var type: UInt8
    /// The bytes after the length field.
    public var body: ByteBuffer

    /// Creates a message.
    public init(type: UInt8, body: ByteBuffer) {
        self.type = type
        self.body = body
    }

    /// Writes type byte, length (body + 4) and body.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(type)
        buffer.writeInteger(Int32(body.readableBytes + 4))
        buffer.writeImmutableBuffer(body)
    }
}

/// Type bytes of the regular messages this package reads or writes.
public enum PostgresMessageType {
    /// `R`: Authentication request (backend).
    public static let authentication: UInt8 = 0x52
    /// `K`: BackendKeyData (backend).
    public static let backendKeyData: UInt8 = 0x4B
    /// `S`: ParameterStatus (backend).
    public static let parameterStatus: UInt8 = 0x53
    /// `Z`: ReadyForQuery (backend).
    public static let readyForQuery: UInt8 = 0x5A
    /// `E`: ErrorResponse (backend).
    public static let errorResponse: UInt8 = 0x45
    /// `N`: NoticeResponse (backend).
    public static let noticeResponse: UInt8 = 0x4E
    /// `v`: NegotiateProtocolVersion (backend).
    public static let negotiateProtocolVersion: UInt8 = 0x76
    /// `p`: PasswordMessage, SASLInitialResponse or SASLResponse (frontend).
    public static let passwordMessage: UInt8 = 0x70
    /// `X`: Terminate (frontend).
    public static let terminate: UInt8 = 0x58
}
