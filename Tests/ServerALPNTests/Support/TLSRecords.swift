/// Byte-level helpers for building and re-framing TLS handshake records in tests.
enum TLSRecords {
    /// The fragments of a sequence of TLS records, headers removed.
    static func fragments(of records: [UInt8]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var index = 0
        while index + 5 <= records.count {
            let length = Int(records[index + 3]) << 8 | Int(records[index + 4])
            result.append(Array(records[(index + 5)..<min(records.count, index + 5 + length)]))
            index += 5 + length
        }
        return result
    }

    /// The handshake message bytes (type, 3-byte length, body) carried by `records`.
    static func handshakeMessage(of records: [UInt8]) -> [UInt8] {
        fragments(of: records).flatMap { $0 }
    }

    /// One handshake record (content type 22) per chunk of `message`, each at most `size` bytes.
    static func reframe(_ message: [UInt8], fragmentSize size: Int, version: UInt16 = 0x0301) -> [UInt8] {
        var output: [UInt8] = []
        var index = 0
        while index < message.count {
            let end = min(message.count, index + size)
            output += record(Array(message[index..<end]), version: version)
            index = end
        }
        return output
    }

    /// A single TLS record around `fragment`.
    static func record(_ fragment: [UInt8], contentType: UInt8 = 22, version: UInt16 = 0x0301) -> [UInt8] {
        [contentType, UInt8(version >> 8), UInt8(version & 0xff)] + u16(fragment.count) + fragment
    }

    static func u16(_ value: Int) -> [UInt8] { [UInt8((value >> 8) & 0xff), UInt8(value & 0xff)] }
    static func u24(_ value: Int) -> [UInt8] { [UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)] }
}
