import NIOCore

/// The 32-byte packet a client sends instead of its HandshakeResponse41 to ask for TLS
/// (`CLIENT_SSL` set); the TLS handshake follows it directly.
public struct MySQLSSLRequest: Sendable, Hashable {
    /// The payload size of an SSLRequest.
    public static let payloadLength = 32

    /// The client's capability flags (including `ssl`).
    public var capabilities: MySQLCapabilities
    /// The largest packet the client wants to receive.
    public var maxPacketSize: UInt32
    /// The client's collation id.
    public var characterSet: UInt8
    /// MariaDB's extended client capabilities: the last 4 of the 23 filler bytes.
    public var mariaDBExtendedCapabilities: UInt32

    /// Creates an SSLRequest.
    public init(capabilities: MySQLCapabilities, maxPacketSize: UInt32, characterSet: UInt8, mariaDBExtendedCapabilities: UInt32 = 0) {
        self.capabilities = capabilities
        self.maxPacketSize = maxPacketSize
        self.characterSet = characterSet
        self.mariaDBExtendedCapabilities = mariaDBExtendedCapabilities
    }

    /// Writes the 32-byte payload (no frame header).
    public func write(into buffer: inout ByteBuffer) {
        MySQLClientPrefix(
            capabilities: capabilities, maxPacketSize: maxPacketSize, characterSet: characterSet,
            mariaDBExtendedCapabilities: mariaDBExtendedCapabilities
        ).write(into: &buffer)
    }
}

/// The first 32 bytes every protocol-41 client packet starts with: capabilities, max packet
/// size, character set, 19 filler bytes, and MariaDB's 4 extended capability bytes.
struct MySQLClientPrefix {
    var capabilities: MySQLCapabilities
    var maxPacketSize: UInt32
    var characterSet: UInt8
    var mariaDBExtendedCapabilities: UInt32

    init(capabilities: MySQLCapabilities, maxPacketSize: UInt32, characterSet: UInt8, mariaDBExtendedCapabilities: UInt32) {
        self.capabilities = capabilities
        self.maxPacketSize = maxPacketSize
        self.characterSet = characterSet
        self.mariaDBExtendedCapabilities = mariaDBExtendedCapabilities
    }

    /// Reads the 32 bytes; throws when they are not all there or `protocol41` is not set.
    init(reading payload: inout ByteBuffer) throws(MySQLWireError) {
        let capabilities = MySQLCapabilities(
            rawValue: try payload.readMySQLInteger(as: UInt32.self, what: "the client capability flags")
        )
        guard capabilities.contains(.protocol41) else {
            throw MySQLWireError("client does not speak protocol 4.1 (HandshakeResponse320 is not supported)")
        }
        self.capabilities = capabilities
        maxPacketSize = try payload.readMySQLInteger(as: UInt32.self, what: "the max packet size")
        characterSet = try payload.readMySQLInteger(as: UInt8.self, what: "the character set")
        _ = try payload.readMySQLBytes(length: 19, what: "the filler")
        mariaDBExtendedCapabilities = try payload.readMySQLInteger(as: UInt32.self, what: "the filler")
    }

    func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(capabilities.rawValue, endianness: .little)
        buffer.writeInteger(maxPacketSize, endianness: .little)
        buffer.writeInteger(characterSet)
        buffer.writeMySQLZeros(19)
        buffer.writeInteger(mariaDBExtendedCapabilities, endianness: .little)
    }
}
