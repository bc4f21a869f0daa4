/// Deterministic rows for COPY: SplitMix64-seeded payloads of 20...219 characters from a
/// base32-style alphabet (a-z, 2-7), so no COPY escaping is ever needed.
struct RowGenerator {
    /// Upper bound of one encoded line, including slack for 8-byte payload stores.
    static let maximumLineBytes = 20 + 1 + 219 + 8 + 1

    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    private mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var mixed = state
        mixed = (mixed ^ (mixed &>> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed &>> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed &>> 31)
    }

    /// Writes `"<id>,<payload>"` at `destination`; returns its length and the offset of the comma.
    /// The caller hashes that text, then swaps the comma for a tab and appends a newline to get the
    /// COPY text line. Needs `maximumLineBytes` of room.
    mutating func writeRow(id: Int, to destination: UnsafeMutableRawPointer) -> (length: Int, separator: Int) {
        let idLength = Self.writeDecimal(id, to: destination)
        destination.storeBytes(of: UInt8(ascii: ","), toByteOffset: idLength, as: UInt8.self)
        let payload = destination + idLength + 1
        let payloadLength = 20 + Int(next() % 200)
        var written = 0
        while written < payloadLength {
            storeEightCharacters(next(), to: payload + written)
            written += 8
        }
        return (idLength + 1 + payloadLength, idLength)
    }

    /// Stores 8 alphabet characters drawn from the low 40 bits of `random` in one unaligned store.
    private func storeEightCharacters(_ random: UInt64, to destination: UnsafeMutableRawPointer) {
        let packed = Self.character(random) | Self.character(random &>> 5) &<< 8
            | Self.character(random &>> 10) &<< 16 | Self.character(random &>> 15) &<< 24
            | Self.character(random &>> 20) &<< 32 | Self.character(random &>> 25) &<< 40
            | Self.character(random &>> 30) &<< 48 | Self.character(random &>> 35) &<< 56
        destination.storeBytes(of: packed.littleEndian, as: UInt64.self)
    }

    private static func character(_ random: UInt64) -> UInt64 {
        let value = random & 31
        return value < 26 ? 0x61 &+ value : 0x32 &+ (value &- 26)
    }

    private static func writeDecimal(_ value: Int, to destination: UnsafeMutableRawPointer) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        rest = value
        for position in stride(from: digits - 1, through: 0, by: -1) {
            destination.storeBytes(of: UInt8(0x30 + rest % 10), toByteOffset: position, as: UInt8.self)
            rest /= 10
        }
        return digits
    }
}
