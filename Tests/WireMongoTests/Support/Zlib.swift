import CZlib

/// zlib `compress2` for building OP_COMPRESSED payloads in tests.
func zlibCompressed(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
    var length = compressBound(uLong(bytes.count))
    var output = [UInt8](repeating: 0, count: Int(length))
    let status = output.withUnsafeMutableBufferPointer { out in
        bytes.withUnsafeBufferPointer { input in
            compress2(out.baseAddress, &length, input.baseAddress, uLong(bytes.count), level)
        }
    }
    precondition(status == Z_OK, "compress2 failed: \(status)")
    return Array(output.prefix(Int(length)))
}
