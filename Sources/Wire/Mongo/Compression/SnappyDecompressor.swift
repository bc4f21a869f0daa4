import NIOCore

/// Snappy raw-format decompression: a varint length, then literal and copy elements. Every
/// literal length, copy offset and copy length is checked before bytes move.
enum SnappyDecompressor {
    /// The decompressed bytes; throws unless they are exactly `expectedSize` bytes.
    static func decompress(_ input: ByteBuffer, expectedSize: Int) throws(MongoWireError) -> ByteBuffer {
        let bytes = Array(input.readableBytesView)
        var index = 0
        let declared = try readVarint(bytes, &index)
        guard declared == expectedSize else {
            throw .decompressedSizeMismatch(expected: expectedSize, actual: declared)
        }
        var output: [UInt8] = []
        // A 3-byte copy yields at most 64 bytes: never reserve more than the input can produce.
        output.reserveCapacity(min(expectedSize, bytes.count * 22))
        while index < bytes.count {
            let tag = bytes[index]
            index += 1
            switch tag & 0x03 {
            case 0:
                var length = Int(tag >> 2) + 1
                if length > 60 {
                    let width = length - 60
                    guard let value = littleEndian(bytes, at: index, width: width) else {
                        throw .truncated("OP_COMPRESSED snappy payload: a literal length runs past the end")
                    }
                    index += width
                    length = value + 1
                }
                guard length <= bytes.count - index else {
                    throw .truncated("OP_COMPRESSED snappy payload: a \(length)-byte literal runs past the end")
                }
                guard length <= expectedSize - output.count else {
                    throw .decompressedSizeMismatch(expected: expectedSize, actual: expectedSize + 1)
                }
                output.append(contentsOf: bytes[index..<index + length])
                index += length
            case 1:
                guard index < bytes.count else { throw .truncated("OP_COMPRESSED snappy payload: a copy tag runs past the end") }
                let length = Int(tag >> 2 & 0x07) + 4
                let offset = Int(tag >> 5) << 8 | Int(bytes[index])
                index += 1
                try copy(&output, offset: offset, length: length, expectedSize: expectedSize)
            default:
                let width = tag & 0x03 == 2 ? 2 : 4
                guard let offset = littleEndian(bytes, at: index, width: width) else {
                    throw .truncated("OP_COMPRESSED snappy payload: a copy offset runs past the end")
                }
                index += width
                try copy(&output, offset: offset, length: Int(tag >> 2) + 1, expectedSize: expectedSize)
            }
        }
        guard output.count == expectedSize else {
            throw .decompressedSizeMismatch(expected: expectedSize, actual: output.count)
        }
        return ByteBuffer(bytes: output)
    }

    /// Appends `length` bytes starting `offset` bytes back (they may overlap what is appended).
    private static func copy(_ output: inout [UInt8], offset: Int, length: Int, expectedSize: Int) throws(MongoWireError) {
        guard offset > 0, offset <= output.count else {
            throw .malformed("OP_COMPRESSED snappy payload: copy offset \(offset) points before the start of the \(output.count) bytes produced")
        }
        guard length <= expectedSize - output.count else {
            throw .decompressedSizeMismatch(expected: expectedSize, actual: expectedSize + 1)
        }
        var from = output.count - offset
        for _ in 0..<length {
            output.append(output[from])
            from += 1
        }
    }

    /// The preamble: the uncompressed length as a little-endian base-128 varint of at most 32 bits.
    private static func readVarint(_ bytes: [UInt8], _ index: inout Int) throws(MongoWireError) -> Int {
        var value = 0
        for shift in stride(from: 0, to: 35, by: 7) {
            guard index < bytes.count else { throw .truncated("OP_COMPRESSED snappy payload: the length preamble runs past the end") }
            let byte = bytes[index]
            index += 1
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                guard value <= Int(UInt32.max) else { break }
                return value
            }
        }
        throw .malformed("OP_COMPRESSED snappy payload: the length preamble is longer than 32 bits")
    }

    /// `width` (1...4) little-endian bytes at `index`, nil when they run past the end.
    private static func littleEndian(_ bytes: [UInt8], at index: Int, width: Int) -> Int? {
        guard width <= bytes.count - index else { return nil }
        var value = 0
        for position in 0..<width { value |= Int(bytes[index + position]) << (8 * position) }
        return value
    }
}
