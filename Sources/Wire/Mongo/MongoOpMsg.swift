import NIOCore

/// An OP_MSG (opcode 2013): flagBits, exactly one kind-0 body document, any number of kind-1
/// document sequences, and an optional CRC-32C.
public struct MongoOpMsg: Sendable, Equatable {
    /// The message's flags.
    public var flags: MongoOpMsgFlags
    /// The kind-0 section: the command or reply document.
    public var body: BSONDocument
    /// The kind-1 sections, in order.
    public var documentSequences: [MongoDocumentSequence]

    /// Creates a message.
    public init(flags: MongoOpMsgFlags = [], body: BSONDocument, documentSequences: [MongoDocumentSequence] = []) {
        self.flags = flags
        self.body = body
        self.documentSequences = documentSequences
    }

    /// Decodes an OP_MSG, checking every section's size against the message and verifying the
    /// CRC-32C when checksumPresent is set.
    public init(decoding message: MongoMessage) throws(MongoWireError) {
        guard message.header.opCode == .msg else {
            throw .malformed("OP_MSG: the header's opcode is \(message.header.opCode)")
        }
        var buffer = message.body
        let flags = MongoOpMsgFlags(rawValue: try buffer.readMongoUInt32("OP_MSG flagBits"))
        guard flags.unknownRequiredBits == 0 else {
            throw .malformed("OP_MSG flagBits 0x\(String(flags.rawValue, radix: 16)): required bits this proxy does not know are set")
        }
        if flags.contains(.checksumPresent) {
            guard buffer.readableBytes >= 4,
                  let expected = buffer.getInteger(at: buffer.writerIndex - 4, endianness: .little, as: UInt32.self)
            else { throw .truncated("OP_MSG: checksumPresent is set but there is no room for the checksum") }
            let actual = Self.checksum(of: message)
            guard actual == expected else { throw .checksumMismatch(expected: expected, actual: actual) }
            buffer.moveWriterIndex(to: buffer.writerIndex - 4)
        }
        var body: BSONDocument?
        var sequences: [MongoDocumentSequence] = []
        guard buffer.readableBytes > 0 else { throw .truncated("OP_MSG: it has no sections") }
        while let kind = buffer.readInteger(as: UInt8.self) {
            switch kind {
            case 0:
                guard body == nil else { throw .malformed("OP_MSG: more than one kind-0 body section") }
                body = try BSONDocument(reading: &buffer, what: "OP_MSG body section")
            case 1:
                sequences.append(try MongoDocumentSequence(reading: &buffer))
            default:
                throw .malformed("OP_MSG: unknown section kind \(kind)")
            }
        }
        guard let body else { throw .malformed("OP_MSG: no kind-0 body section") }
        self.init(flags: flags, body: body, documentSequences: sequences)
    }

    /// The CRC-32C of a message's header and body without the body's last 4 bytes.
    static func checksum(of message: MongoMessage) -> UInt32 {
        var header = ByteBuffer()
        message.header.write(into: &header)
        let state = CRC32C.update(CRC32C.start, header.readableBytesView)
        return CRC32C.finish(CRC32C.update(state, message.body.readableBytesView.dropLast(4)))
    }

    /// The whole message with this header's IDs; when `flags` has checksumPresent, the CRC-32C
    /// is appended.
    public func message(requestID: Int32, responseTo: Int32) -> MongoMessage {
        var body = ByteBuffer()
        body.writeInteger(flags.rawValue, endianness: .little)
        body.writeInteger(UInt8(0))
        body.writeImmutableBuffer(self.body.bytes)
        for sequence in documentSequences { sequence.write(into: &body) }
        if flags.contains(.checksumPresent) { body.writeInteger(UInt32(0), endianness: .little) }
        let header = MongoMessageHeader(
            messageLength: Int32(truncatingIfNeeded: MongoMessageHeader.size + body.readableBytes),
            requestID: requestID, responseTo: responseTo, opCode: .msg)
        var message = MongoMessage(header: header, body: body)
        if flags.contains(.checksumPresent) {
            message.body.setInteger(Self.checksum(of: message), at: body.writerIndex - 4, endianness: .little)
        }
        return message
    }
}
