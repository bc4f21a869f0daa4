/// An IPv4 or IPv6 address: what a PROXY protocol header carries and what `trusted_cidrs`
/// entries are made of.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    /// The 128 bits as two halves, most significant first.
    case v6(high: UInt64, low: UInt64)

    /// Builds an address from 4 (IPv4) or 16 (IPv6) bytes in network order.
    public init?<Bytes: Collection<UInt8>>(networkBytes bytes: Bytes) {
        switch bytes.count {
        case 4:
            self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            let high = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes.dropFirst(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self = .v6(high: high, low: low)
        default:
            return nil
        }
    }

    /// Parses dotted decimal IPv4 (exactly four numbers 0...255, no leading zeros) or IPv6
    /// (hex groups of one to four digits, at most one `::`, an IPv4 tail allowed).
    public init?(parsing text: some StringProtocol) {
        if text.contains(":") {
            guard let address = Self.parseV6(Array(text.utf8)) else { return nil }
            self = address
        } else {
            guard let value = Self.parseV4(Array(text.utf8)[...]) else { return nil }
            self = .v4(value)
        }
    }

    public var isIPv4: Bool {
        if case .v4 = self { return true }
        return false
    }

    /// The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, how a dual-stack socket
    /// shows an IPv4 peer) stands for; the address itself otherwise.
    public var unmapped: IPAddress {
        if case .v6(0, let low) = self, low >> 32 == 0xffff { return .v4(UInt32(truncatingIfNeeded: low)) }
        return self
    }

    /// Canonical text: dotted decimal, or RFC 5952 IPv6 (lower case, longest run of zero
    /// groups of two or more compressed, the first of equal runs).
    public var description: String {
        switch self {
        case .v4(let value):
            return (0..<4).map { String(value >> (24 - 8 * $0) & 0xff) }.joined(separator: ".")
        case .v6(let high, let low):
            let groups = (0..<8).map { index -> UInt16 in
                let half = index < 4 ? high : low
                return UInt16(truncatingIfNeeded: half >> (48 - 16 * (index % 4)))
            }
            var best: Range<Int>?
            var index = 0
            while index < 8 {
                guard groups[index] == 0 else {
                    index += 1
                    continue
                }
                var end = index
                while end < 8, groups[end] == 0 { end += 1 }
                if end - index >= 2, end - index > (best?.count ?? 0) { best = index..<end }
                index = end
            }
            let hex = groups.map { String($0, radix: 16) }
            guard let best else { return hex.joined(separator: ":") }
            return hex[..<best.lowerBound].joined(separator: ":") + "::" + hex[best.upperBound...].joined(separator: ":")
        }
    }

    static func parseV4(_ text: ArraySlice<UInt8>) -> UInt32? {
        let parts = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let number = decimal(part, maximum: 255) else { return nil }
            value = value << 8 | UInt32(number)
        }
        return value
    }

    /// A decimal number of at most `maximum` without sign or leading zeros; nil otherwise.
    static func decimal(_ digits: some Collection<UInt8>, maximum: Int) -> Int? {
        guard let first = digits.first, !digits.isEmpty, digits.count <= String(maximum).count else { return nil }
        guard first != UInt8(ascii: "0") || digits.count == 1 else { return nil }
        var value = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return value <= maximum ? value : nil
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): true
        default: false
        }
    }

    private static func parseV6(_ text: [UInt8]) -> IPAddress? {
        guard text.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var compressed = false
        var rest = text[...]
        if rest.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            compressed = true
            rest = rest.dropFirst(2)
        } else if rest.first == UInt8(ascii: ":") {
            return nil
        }
        while !rest.isEmpty {
            let end = rest.firstIndex(of: UInt8(ascii: ":")) ?? rest.endIndex
            let field = rest[rest.startIndex..<end]
            if field.contains(UInt8(ascii: ".")) {
                // An IPv4 tail: only as the last field.
                guard end == rest.endIndex, let value = parseV4(field) else { return nil }
                let pair = [UInt16(value >> 16), UInt16(value & 0xffff)]
                if compressed { tail += pair } else { head += pair }
                rest = rest[end...]
                break
            }
            guard (1...4).contains(field.count), field.allSatisfy(Self.isHexDigit),
                  let group = UInt16(String(decoding: field, as: UTF8.self), radix: 16)
            else { return nil }
            if compressed { tail.append(group) } else { head.append(group) }
            rest = rest[end...]
            guard !rest.isEmpty else { break }
            rest = rest.dropFirst()  // ":"
            if rest.first == UInt8(ascii: ":") {
                guard !compressed else { return nil }  // a second "::"
                compressed = true
                rest = rest.dropFirst()
            } else if rest.isEmpty {
                return nil  // a trailing single ":"
            }
        }
        let count = head.count + tail.count
        if compressed {
            guard count <= 7 else { return nil }
        } else {
            guard count == 8 else { return nil }
        }
        let groups = head + Array(repeating: 0, count: 8 - count) + tail
        var bytes: [UInt8] = []
        for group in groups { bytes += [UInt8(group >> 8), UInt8(group & 0xff)] }
        return IPAddress(networkBytes: bytes)
    }
}

/// An address block in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`); a bare address is a block
/// of one.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Why a text is not a CIDR block.
    public enum ParseError: Error, Hashable, CustomStringConvertible {
        case notAnAddress(String)
        case badPrefixLength(String, maximum: Int)
        /// Bits set after the prefix: probably a typo (`10.0.0.1/8` for `10.0.0.0/8`).
        case hostBitsSet(String, suggestion: String)

        public var description: String {
            switch self {
            case .notAnAddress(let text): "\"\(text)\" is not an IPv4 or IPv6 address"
            case .badPrefixLength(let text, let maximum): "\"\(text)\" is not a prefix length (0 to \(maximum))"
            case .hostBitsSet(let text, let suggestion): "\"\(text)\" has bits set after the prefix; did you mean \(suggestion)?"
            }
        }
    }

    /// A block of `address` with `prefixLength` leading bits, clamped to 0...32 (IPv4) or
    /// 0...128 (IPv6).
    public init(address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = min(max(prefixLength, 0), address.isIPv4 ? 32 : 128)
    }

    /// Parses `address/length` or a bare address; refuses host bits set after the prefix.
    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parsing: parts[0]) else { throw .notAnAddress(String(parts[0])) }
        let maximum = address.isIPv4 ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            guard let parsed = IPAddress.decimal(parts[1].utf8, maximum: maximum) else {
                throw .badPrefixLength(String(parts[1]), maximum: maximum)
            }
            length = parsed
        }
        let network = IPNetwork(address: address, prefixLength: length)
        let masked = network.masked
        guard masked == address else { throw .hostBitsSet(text, suggestion: "\(masked)/\(length)") }
        self = network
    }

    /// Whether `candidate` is inside the block. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`)
    /// counts as its IPv4 address, and an IPv4 address is inside an IPv6 block that holds its
    /// mapped form.
    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate.unmapped) {
        case (.v4(let network), .v4(let value)):
            let mask: UInt32 = prefixLength == 0 ? 0 : ~0 << (32 - prefixLength)
            return network & mask == value & mask
        case (.v6(let networkHigh, let networkLow), .v6(let high, let low)):
            return Self.matches(networkHigh, networkLow, high, low, prefixLength)
        case (.v6(let networkHigh, let networkLow), .v4(let value)):
            // An IPv4 peer is also its mapped form ::ffff:a.b.c.d (how a dual-stack socket shows it).
            return Self.matches(networkHigh, networkLow, 0, 0xffff_0000_0000 | UInt64(value), prefixLength)
        default:
            return false
        }
    }

    public var description: String { "\(address)/\(prefixLength)" }

    private var masked: IPAddress {
        switch address {
        case .v4(let value):
            return .v4(prefixLength == 0 ? 0 : value & ~0 << (32 - prefixLength))
        case .v6(let high, let low):
            let (highMask, lowMask) = Self.masks(prefixLength)
            return .v6(high: high & highMask, low: low & lowMask)
        }
    }

    private static func matches(_ networkHigh: UInt64, _ networkLow: UInt64, _ high: UInt64, _ low: UInt64, _ length: Int) -> Bool {
        let (highMask, lowMask) = masks(length)
        return networkHigh & highMask == high & highMask && networkLow & lowMask == low & lowMask
    }

    private static func masks(_ length: Int) -> (UInt64, UInt64) {
        let high: UInt64 = length == 0 ? 0 : (length >= 64 ? ~0 : ~0 << (64 - length))
        let low: UInt64 = length <= 64 ? 0 : (length >= 128 ? ~0 : ~0 << (128 - length))
        return (high, low)
    }
}
