import CZlib
import NIOCore

/// Inflates a zlib stream into at most `expectedSize` + 1 bytes, growing the output as it goes
/// so a short payload cannot make it allocate the whole declared size up front.
enum ZlibInflater {
    private static let firstChunk = 64 * 1024

    /// The inflated bytes; throws unless the stream ends after exactly `expectedSize` bytes.
    /// Bytes after the end of the stream are ignored, as the server's `uncompress` does.
    static func inflate(_ input: ByteBuffer, expectedSize: Int) throws(MongoWireError) -> ByteBuffer {
        guard input.readableBytes > 0, let inputCount = UInt32(exactly: input.readableBytes) else {
            throw .truncated("OP_COMPRESSED zlib payload: it is empty")
        }
        var stream = z_stream()
        guard czlib_inflate_init(&stream) == Z_OK else {
            throw .decompressionFailed("zlib could not start (out of memory?)")
        }
        defer { inflateEnd(&stream) }

        let limit = expectedSize + 1  // one byte more tells "too much" from "exactly right"
        var output = ByteBuffer()
        var status = Z_OK
        input.withUnsafeReadableBytes { raw in
            stream.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = inputCount
            while status == Z_OK && output.readableBytes < limit {
                let chunk = min(limit - output.readableBytes, max(firstChunk, output.readableBytes))
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk) { out in
                    stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    stream.avail_out = UInt32(chunk)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return chunk - Int(stream.avail_out)
                }
                if status == Z_OK && stream.avail_in == 0 && stream.avail_out > 0 { status = Z_BUF_ERROR }
            }
        }
        switch status {
        case Z_STREAM_END, Z_OK, Z_BUF_ERROR:
            if output.readableBytes > expectedSize {
                throw .decompressedSizeMismatch(expected: expectedSize, actual: output.readableBytes)
            }
            guard status == Z_STREAM_END else {
                throw .truncated("OP_COMPRESSED zlib payload: the stream ends after \(output.readableBytes) bytes without its end marker")
            }
            guard output.readableBytes == expectedSize else {
                throw .decompressedSizeMismatch(expected: expectedSize, actual: output.readableBytes)
            }
            return output
        case Z_NEED_DICT:
            throw .decompressionFailed("the zlib stream needs a preset dictionary")
        default:
            let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            throw .decompressionFailed(reason)
        }
    }
}
