/// One bind parameter for the extended query protocol (PQexecParams / PQexecPrepared).
struct PGParameter {
    /// nil sends SQL NULL.
    let bytes: [UInt8]?
    let isBinary: Bool

    static func text(_ value: String) -> PGParameter {
        PGParameter(bytes: Array(value.utf8), isBinary: false)
    }

    /// An int4 in binary format (network byte order).
    static func binaryInt32(_ value: Int32) -> PGParameter {
        let bits = UInt32(bitPattern: value)
        return PGParameter(bytes: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: bits >> $0) }, isBinary: true)
    }

    static func binary(_ bytes: [UInt8]) -> PGParameter {
        PGParameter(bytes: bytes, isBinary: true)
    }

    static let null = PGParameter(bytes: nil, isBinary: false)
}

/// The three parallel C arrays libpq expects for parameters, valid only inside `body`.
struct PGParameterArrays {
    let count: Int32
    let values: UnsafePointer<UnsafePointer<CChar>?>?
    let lengths: UnsafePointer<Int32>?
    let formats: UnsafePointer<Int32>?

    static func with<Result>(_ parameters: [PGParameter], _ body: (PGParameterArrays) throws -> Result) rethrows -> Result {
        // Each value gets its own NUL-terminated copy, freed when `body` returns.
        let buffers: [UnsafeMutablePointer<CChar>?] = parameters.map { parameter in
            guard let bytes = parameter.bytes else { return nil }
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            bytes.withUnsafeBufferPointer { source in
                for index in 0..<source.count {
                    buffer[index] = CChar(bitPattern: source[index])
                }
            }
            buffer[bytes.count] = 0
            return buffer
        }
        defer { buffers.forEach { $0?.deallocate() } }
        let values: [UnsafePointer<CChar>?] = buffers.map { $0.map { UnsafePointer($0) } }
        let lengths = parameters.map { Int32($0.bytes?.count ?? 0) }
        let formats = parameters.map { Int32($0.isBinary ? 1 : 0) }
        return try values.withUnsafeBufferPointer { valuePointers in
            try lengths.withUnsafeBufferPointer { lengthPointers in
                try formats.withUnsafeBufferPointer { formatPointers in
                    try body(PGParameterArrays(
                        count: Int32(parameters.count),
                        values: valuePointers.baseAddress,
                        lengths: lengthPointers.baseAddress,
                        formats: formatPointers.baseAddress
                    ))
                }
            }
        }
    }
}
