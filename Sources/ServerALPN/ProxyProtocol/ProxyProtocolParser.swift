import NIOCore

/// Reads a PROXY protocol header (haproxy's proxy-protocol.txt, versions 1 and 2) from the first
/// bytes of a connection without consuming them. Pure: a buffer in, a result out.
///
/// Feed it every byte of the connection so far, as often as bytes arrive; it answers
/// `needMoreData` until it can decide, looks at no more than one header's worth of bytes
/// (`v1MaximumLength`, or `16 + 216 + maximumTLVBytes` for version 2) and refuses anything that
/// does not exactly match the specification.
public enum ProxyProtocolParser {
    /// The longest version 1 line, CRLF included ("PROXY UNKNOWN" with two full IPv6 addresses).
    public static let v1MaximumLength = 107
    /// `\r\n\r\n\0\r\nQUIT\n`: the first 12 bytes of every version 2 header.
    public static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// TLV bytes accepted after a version 2 address block.
    public static let maximumTLVBytes = 4096
    /// The longest version 2 header accepted: 16 fixed bytes, the AF_UNIX address block, TLVs.
    public static let v2MaximumLength = 16 + 216 + maximumTLVBytes

    private static let v1Prefix = Array("PROXY".utf8)

    public enum Result: Sendable, Hashable {
        /// The bytes so far are the start of a header (or too few to tell).
        case needMoreData
        /// The first bytes cannot start a PROXY header (a TLS record, a Postgres packet ...).
        case notProxyProtocol
        case header(ProxyProtocolHeader)
        /// A PROXY header, but not a valid one: the connection must be closed.
        case invalid(String)
    }

    /// Parses the readable bytes of `buffer` (which is not modified).
    public static func parse(_ buffer: ByteBuffer) -> Result {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return .needMoreData }
        switch first {
        case v1Prefix[0]: return parseV1(buffer)
        case v2Signature[0]: return parseV2(buffer)
        default: return .notProxyProtocol
        }
    }

    /// Whether the first bytes of `buffer` could be the start of a PROXY header (for telling a
    /// sender why it was refused when it was not asked for one).
    public static func looksLikeHeader(_ buffer: ByteBuffer) -> Bool {
        switch parse(buffer) {
        case .notProxyProtocol: false
        default: true
        }
    }

    // MARK: Version 1

    private static func parseV1(_ buffer: ByteBuffer) -> Result {
        let bytes = buffer.getBytes(at: buffer.readerIndex, length: min(buffer.readableBytes, v1MaximumLength)) ?? []
        guard bytes.starts(with: v1Prefix.prefix(bytes.count)) else { return .notProxyProtocol }
        var lineEnd: Int?
        for (index, byte) in bytes.enumerated() {
            if index > 0, bytes[index - 1] == UInt8(ascii: "\r") {
                guard byte == UInt8(ascii: "\n") else { return .invalid("version 1 header: CR not followed by LF") }
                lineEnd = index - 1
                break
            }
            switch byte {
            case UInt8(ascii: "\r"): continue
            case UInt8(ascii: "\n"): return .invalid("version 1 header: LF without CR")
            case 0x20...0x7E: continue
            default: return .invalid("version 1 header: byte 0x\(hex(byte)) at offset \(index) is not printable US-ASCII")
            }
        }
        guard let lineEnd else {
            if bytes.count >= v1MaximumLength { return .invalid("version 1 header: no CRLF within the first \(v1MaximumLength) bytes") }
            return .needMoreData
        }
        let line = bytes[..<lineEnd]
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard fields[0] == "PROXY", fields.count >= 2 else {
            return .invalid("version 1 header: expected \"PROXY\" and a single space, got \"\(String(decoding: line, as: UTF8.self))\"")
        }
        let consumed = lineEnd + 2
        switch fields[1] {
        case "UNKNOWN":
            // The rest of the line, if any, is to be ignored.
            return .header(ProxyProtocolHeader(version: .v1, command: .proxy, transport: .unknown, source: nil, destination: nil, consumedBytes: consumed))
        case "TCP4", "TCP6":
            let family = fields[1]
            guard fields.count == 6 else {
                return .invalid("version 1 header: \(family) needs exactly \"PROXY \(family) SOURCE DESTINATION SPORT DPORT\" with single spaces")
            }
            let v4 = family == "TCP4"
            func address(_ text: String) -> IPAddress? {
                if v4 { return IPAddress.parseV4(Array(text.utf8)[...]).map(IPAddress.v4) }
                return text.contains(":") ? IPAddress(parsing: text) : nil
            }
            guard let source = address(fields[2]) else {
                return .invalid("version 1 header: source address \"\(fields[2])\" is not an \(v4 ? "IPv4" : "IPv6") address")
            }
            guard let destination = address(fields[3]) else {
                return .invalid("version 1 header: destination address \"\(fields[3])\" is not an \(v4 ? "IPv4" : "IPv6") address")
            }
            guard let sourcePort = IPAddress.decimal(fields[4].utf8, maximum: 65535) else {
                return .invalid("version 1 header: source port \"\(fields[4])\" is not a number from 0 to 65535 without leading zeros")
            }
            guard let destinationPort = IPAddress.decimal(fields[5].utf8, maximum: 65535) else {
                return .invalid("version 1 header: destination port \"\(fields[5])\" is not a number from 0 to 65535 without leading zeros")
            }
            return .header(ProxyProtocolHeader(
                version: .v1, command: .proxy, transport: v4 ? .tcp4 : .tcp6,
                source: ProxyProtocolEndpoint(address: source, port: sourcePort),
                destination: ProxyProtocolEndpoint(address: destination, port: destinationPort), consumedBytes: consumed))
        default:
            return .invalid("version 1 header: protocol \"\(fields[1])\" is not TCP4, TCP6 or UNKNOWN")
        }
    }

    // MARK: Version 2

    private static func parseV2(_ buffer: ByteBuffer) -> Result {
        let fixed = buffer.getBytes(at: buffer.readerIndex, length: min(buffer.readableBytes, 16)) ?? []
        guard fixed.starts(with: v2Signature.prefix(fixed.count)) else { return .notProxyProtocol }
        guard fixed.count == 16 else { return .needMoreData }
        let version = fixed[12] >> 4, commandBits = fixed[12] & 0x0F
        guard version == 2 else { return .invalid("version 2 signature with version \(version) (only 2 is defined)") }
        let command: ProxyProtocolHeader.Command
        switch commandBits {
        case 0: command = .local
        case 1: command = .proxy
        default: return .invalid("version 2 header: command \(commandBits) is neither LOCAL (0) nor PROXY (1)")
        }
        let transport: ProxyProtocolHeader.Transport
        let addressLength: Int
        switch fixed[13] {
        case 0x00: (transport, addressLength) = (.unspecified, 0)
        case 0x11: (transport, addressLength) = (.tcp4, 12)
        case 0x12: (transport, addressLength) = (.udp4, 12)
        case 0x21: (transport, addressLength) = (.tcp6, 36)
        case 0x22: (transport, addressLength) = (.udp6, 36)
        case 0x31: (transport, addressLength) = (.unixStream, 216)
        case 0x32: (transport, addressLength) = (.unixDatagram, 216)
        default: return .invalid("version 2 header: address family and transport byte 0x\(hex(fixed[13])) is not defined")
        }
        let length = Int(fixed[14]) << 8 | Int(fixed[15])
        guard length <= addressLength + maximumTLVBytes else {
            return .invalid("version 2 header: length \(length) exceeds \(addressLength + maximumTLVBytes) (\(addressLength) address bytes and at most \(maximumTLVBytes) bytes of TLVs)")
        }
        if command == .proxy, length < addressLength {
            return .invalid("version 2 header: length \(length) is shorter than the \(addressLength)-byte address block")
        }
        guard let header = buffer.getBytes(at: buffer.readerIndex, length: 16 + length), header.count == 16 + length else {
            return .needMoreData
        }
        // LOCAL: the block is skipped whatever it holds; TLVs are read only where they can be found.
        var tlvs: [ProxyProtocolHeader.TLV] = []
        if length >= addressLength {
            var offset = 16 + addressLength
            while offset < header.count {
                guard offset + 3 <= header.count else { return .invalid("version 2 header: truncated TLV at offset \(offset)") }
                let type = header[offset], valueLength = Int(header[offset + 1]) << 8 | Int(header[offset + 2])
                guard offset + 3 + valueLength <= header.count else {
                    return .invalid("version 2 header: TLV 0x\(hex(type)) of \(valueLength) bytes at offset \(offset) runs past the header")
                }
                let value = Array(header[(offset + 3)..<(offset + 3 + valueLength)])
                if type == crc32cType {
                    guard valueLength == 4 else { return .invalid("version 2 header: CRC32C TLV of \(valueLength) bytes (expected 4)") }
                    var zeroed = header
                    zeroed.replaceSubrange((offset + 3)..<(offset + 7), with: [0, 0, 0, 0])
                    let expected = value.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                    let actual = CRC32C.checksum(zeroed)
                    guard expected == actual else {
                        return .invalid("version 2 header: CRC32C 0x\(String(expected, radix: 16)) does not match the header (0x\(String(actual, radix: 16)))")
                    }
                }
                tlvs.append(ProxyProtocolHeader.TLV(type: type, value: value))
                offset += 3 + valueLength
            }
        }
        var source: ProxyProtocolEndpoint?
        var destination: ProxyProtocolEndpoint?
        if command == .proxy, transport == .tcp4 || transport == .tcp6 {
            let size = transport == .tcp4 ? 4 : 16
            func port(_ offset: Int) -> Int { Int(header[offset]) << 8 | Int(header[offset + 1]) }
            if let sourceAddress = IPAddress(networkBytes: header[16..<(16 + size)]),
               let destinationAddress = IPAddress(networkBytes: header[(16 + size)..<(16 + 2 * size)])
            {
                source = ProxyProtocolEndpoint(address: sourceAddress, port: port(16 + 2 * size))
                destination = ProxyProtocolEndpoint(address: destinationAddress, port: port(18 + 2 * size))
            }
        }
        return .header(ProxyProtocolHeader(
            version: .v2, command: command, transport: transport, source: source, destination: destination,
            consumedBytes: header.count, tlvs: tlvs))
    }

    /// PP2_TYPE_CRC32C.
    static let crc32cType: UInt8 = 0x03

    private static func hex(_ byte: UInt8) -> String {
        let text = String(byte, radix: 16, uppercase: true)
        return text.count == 1 ? "0" + text : text
    }
}

/// CRC-32C (Castagnoli), as PP2_TYPE_CRC32C uses it (RFC 4960, appendix B).
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
