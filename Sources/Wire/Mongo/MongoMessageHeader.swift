import NIOCore

/// The 16-byte MsgHeader that starts every MongoDB message: four little-endian int32s.
public struct MongoMessageHeader: Equatable, Sendable {
    /// The size of a header on the wire.
    public static let size = 16

    /// The whole message's length, header included.
    public var messageLength: Int32
    /// The sender's identifier for this message.
    public var requestID: Int32
    /// The requestID this message answers (0 in requests).
    public var responseTo: Int32
    /// What kind of message follows.
    public var opCode: MongoOpCode

    /// Creates a header.
    public init(messageLength: Int32, requestID: Int32, responseTo: Int32, opCode: MongoOpCode) {
        self.messageLength = messageLength
        self.requestID = requestID
        self.responseTo = responseTo
        self.opCode = opCode
    }

    /// Reads 16 bytes if available (nil when fewer), does not validate.
    public static func peek(in buffer: ByteBuffer) -> MongoMessageHeader? {
        peek(in: buffer, at: buffer.readerIndex)
    }

    /// Reads the 16 bytes at `index` if available (nil when fewer), does not validate.
    static func peek(in buffer: ByteBuffer, at index: Int) -> MongoMessageHeader? {
        guard let length = buffer.getInteger(at: index, endianness: .little, as: Int32.self),
              let requestID = buffer.getInteger(at: index + 4, endianness: .little, as: Int32.self),
              let responseTo = buffer.getInteger(at: index + 8, endianness: .little, as: Int32.self),
              let opCode = buffer.getInteger(at: index + 12, endianness: .little, as: Int32.self)
        else { return nil }
        return MongoMessageHeader(
            messageLength: length, requestID: requestID, responseTo: responseTo, opCode: MongoOpCode(rawValue: opCode))
    }

    /// Writes the 16 header bytes.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(messageLength, endianness: .little)
        buffer.writeInteger(requestID, endianness: .little)
        buffer.writeInteger(responseTo, endianness: .little)
        buffer.writeInteger(opCode.rawValue, endianness: .little)
    }
}
