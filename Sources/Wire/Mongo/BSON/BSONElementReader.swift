import NIOCore

/// Reads the elements of one document in order. Every size is checked against the bytes left
/// in the document before anything is sliced; an unknown type byte is malformed.
public struct BSONElementReader: Sendable {
    /// The rest of the document: elements and the terminating NUL.
    private var remaining: ByteBuffer
    private var finished = false

    init(elements: ByteBuffer) {
        self.remaining = elements
    }

    /// The next element; nil at the terminating NUL.
    public mutating func next() throws(MongoWireError) -> BSONElement? {
        guard !finished else { return nil }
        guard let typeByte = remaining.readInteger(as: UInt8.self) else {
            throw .truncated("BSON document: it ends without its terminating NUL")
        }
        if typeByte == 0 {
            guard remaining.readableBytes == 0 else {
                throw .malformed("BSON document: a NUL type byte \(remaining.readableBytes) bytes before its end")
            }
            finished = true
            return nil
        }
        guard let type = BSONType(rawValue: typeByte) else {
            throw .malformed("BSON document: unknown element type 0x\(String(typeByte, radix: 16))")
        }
        let key = try remaining.readMongoCString("BSON element key")
        let size = try valueSize(of: type, key: key)
        guard let value = remaining.readSlice(length: size) else {
            throw .truncated("BSON element '\(key)': its value runs past the end of the document")
        }
        return BSONElement(type: type, key: key, value: value)
    }

    /// The byte size of the value at the front of `remaining`, checked to fit in it.
    private func valueSize(of type: BSONType, key: String) throws(MongoWireError) -> Int {
        let size: Int
        if let fixed = type.fixedSize {
            size = fixed
        } else {
            switch type {
            case .string, .javaScript, .symbol:
                size = try stringSize(at: 0, within: remaining.readableBytes, key: key)
            case .document, .array:
                size = try documentSize(at: 0, within: remaining.readableBytes, key: key)
            case .binary:
                let length = try int32(at: 0, key: key)
                guard length >= 0 else { throw .malformed("BSON binary '\(key)': negative length \(length)") }
                size = 5 + Int(length)
            case .regex:
                let pattern = try cStringSize(at: 0, key: key)
                size = pattern + (try cStringSize(at: pattern, key: key))
            case .dbPointer:
                size = try stringSize(at: 0, within: remaining.readableBytes, key: key) + 12
            case .javaScriptWithScope:
                size = try codeWithScopeSize(key: key)
            default:
                throw .malformed("BSON element '\(key)': type \(type) has no size rule")
            }
        }
        guard size <= remaining.readableBytes else {
            throw .truncated("BSON element '\(key)': \(size) value bytes run past the \(remaining.readableBytes) left")
        }
        return size
    }

    private func int32(at offset: Int, key: String) throws(MongoWireError) -> Int32 {
        guard let value = remaining.getInteger(at: remaining.readerIndex + offset, endianness: .little, as: Int32.self) else {
            throw .truncated("BSON element '\(key)': its length runs past the end of the document")
        }
        return value
    }

    /// int32 length (at least 1, counting the NUL), bytes, NUL; `limit` bounds the whole.
    private func stringSize(at offset: Int, within limit: Int, key: String) throws(MongoWireError) -> Int {
        let length = try int32(at: offset, key: key)
        guard length >= 1 else { throw .malformed("BSON string '\(key)': length \(length) is below 1") }
        let size = 4 + Int(length)
        guard offset + size <= limit else {
            throw .truncated("BSON string '\(key)': length \(length) runs past the end of the document")
        }
        guard remaining.getInteger(at: remaining.readerIndex + offset + size - 1, as: UInt8.self) == 0 else {
            throw .malformed("BSON string '\(key)': does not end with a NUL byte")
        }
        return size
    }

    /// int32 length (at least 5, counting itself and the NUL), elements, NUL.
    private func documentSize(at offset: Int, within limit: Int, key: String) throws(MongoWireError) -> Int {
        let length = try int32(at: offset, key: key)
        guard length >= BSONDocument.minimumLength else {
            throw .malformed("BSON document '\(key)': length \(length) is below the 5-byte minimum")
        }
        guard offset + Int(length) <= limit else {
            throw .truncated("BSON document '\(key)': length \(length) runs past the end of its container")
        }
        guard remaining.getInteger(at: remaining.readerIndex + offset + Int(length) - 1, as: UInt8.self) == 0 else {
            throw .malformed("BSON document '\(key)': does not end with a NUL byte")
        }
        return Int(length)
    }

    /// A cstring's size including its NUL.
    private func cStringSize(at offset: Int, key: String) throws(MongoWireError) -> Int {
        let view = remaining.readableBytesView.dropFirst(offset)
        guard let nul = view.firstIndex(of: 0) else {
            throw .truncated("BSON regex '\(key)': no terminating NUL")
        }
        return nul - view.startIndex + 1
    }

    /// int32 total, string code, document scope; the parts must fill the total exactly.
    private func codeWithScopeSize(key: String) throws(MongoWireError) -> Int {
        let total = try int32(at: 0, key: key)
        guard total >= 14 else { throw .malformed("BSON code with scope '\(key)': length \(total) is below 14") }
        guard Int(total) <= remaining.readableBytes else {
            throw .truncated("BSON code with scope '\(key)': length \(total) runs past the end of the document")
        }
        let code = try stringSize(at: 4, within: Int(total), key: key)
        let scope = try documentSize(at: 4 + code, within: Int(total), key: key)
        guard 4 + code + scope == Int(total) else {
            throw .malformed("BSON code with scope '\(key)': parts fill \(4 + code + scope) of \(total) bytes")
        }
        return Int(total)
    }
}
