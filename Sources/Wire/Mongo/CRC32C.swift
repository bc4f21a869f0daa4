/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of OP_MSG.
public enum CRC32C {
    /// One entry per byte value.
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
        return crc
    }

    /// The checksum of `bytes`.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        finish(update(start, bytes))
    }

    /// The state before any byte.
    static let start: UInt32 = 0xFFFF_FFFF

    /// The state after `bytes` more.
    static func update<Bytes: Sequence>(_ state: UInt32, _ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        table.withUnsafeBufferPointer { table in
            var crc = state
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
            return crc
        }
    }

    /// The checksum of a finished state.
    static func finish(_ state: UInt32) -> UInt32 { ~state }
}
