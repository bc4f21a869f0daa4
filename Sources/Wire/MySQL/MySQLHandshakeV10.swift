import NIOCore

/// Server greeting (protocol 10). MariaDB puts extended capabilities in the reserved bytes:
/// those bytes are kept (`mariaDBExtendedCapabilities`) so a re-encoded greeting is
/// byte-identical.
public struct MySQLHandshakeV10: Sendable, Hashable {
    /// The protocol version byte every greeting starts with.
    public static let protocolVersion: UInt8 = 10

    /// The server's version text (MariaDB prefixes `5.5.5-`).
    public var serverVersion: String
    /// The server's thread id for this connection.
    public var connectionID: UInt32
    /// The scramble (nonce), usually 20 bytes, without the NUL that ends it on the wire.
    public var authPluginData: [UInt8]
    /// The server's capability flags.
    public var capabilities: MySQLCapabilities
    /// The server's default collation id (lower 8 bits).
    public var characterSet: UInt8
    /// `SERVER_STATUS_*` flags.
    public var statusFlags: UInt16
    /// The authentication plugin the scramble is for; present when `pluginAuth` is set.
    public var authPluginName: String?
    /// MariaDB's extended capabilities: the last 4 of the 10 reserved bytes (0 for MySQL).
    public var mariaDBExtendedCapabilities: UInt32

    /// Creates a greeting.
    public init(
        serverVersion: String, connectionID: UInt32, authPluginData: [UInt8], capabilities: MySQLCapabilities,
        characterSet: UInt8, statusFlags: UInt16, authPluginName: String?, mariaDBExtendedCapabilities: UInt32 = 0
    ) {
        self.serverVersion = serverVersion
        self.connectionID = connectionID
        self.authPluginData = authPluginData
        self.capabilities = capabilities
        self.characterSet = characterSet
        self.statusFlags = statusFlags
        self.authPluginName = authPluginName
        self.mariaDBExtendedCapabilities = mariaDBExtendedCapabilities
    }

    /// Parses a greeting payload. The second scramble part is read when `secureConnection` is
    /// set: max(13, length - 8) bytes, where the length byte counts only when `pluginAuth` is set
    /// (it is 0 otherwise, and the part is 13 bytes); the plugin name is read when `pluginAuth`
    /// is set; bytes after the plugin name are ignored.
    public init(decoding payload: ByteBuffer) throws(MySQLWireError) {
        var payload = payload
        let version = try payload.readMySQLInteger(as: UInt8.self, what: "the protocol version")
        guard version == Self.protocolVersion else {
            throw MySQLWireError("greeting has protocol version \(version); only 10 is supported")
        }
        serverVersion = try payload.readMySQLNullTerminatedString(what: "the greeting's server version")
        connectionID = try payload.readMySQLInteger(as: UInt32.self, what: "the connection id")
        var scramble = try payload.readMySQLBytes(length: 8, what: "the scramble's first part")
        _ = try payload.readMySQLInteger(as: UInt8.self, what: "the filler after the scramble")
        let lower = try payload.readMySQLInteger(as: UInt16.self, what: "the lower capability flags")
        characterSet = try payload.readMySQLInteger(as: UInt8.self, what: "the character set")
        statusFlags = try payload.readMySQLInteger(as: UInt16.self, what: "the status flags")
        let upper = try payload.readMySQLInteger(as: UInt16.self, what: "the upper capability flags")
        capabilities = MySQLCapabilities(rawValue: UInt32(upper) << 16 | UInt32(lower))
        let scrambleLength = try payload.readMySQLInteger(as: UInt8.self, what: "the scramble length")
        _ = try payload.readMySQLBytes(length: 6, what: "the reserved bytes")
        mariaDBExtendedCapabilities = try payload.readMySQLInteger(as: UInt32.self, what: "the reserved bytes")
        if capabilities.contains(.secureConnection) {
            let length = capabilities.contains(.pluginAuth) ? max(13, Int(scrambleLength) - 8) : 13
            var rest = try payload.readMySQLBytes(length: length, what: "the scramble's second part")
            if rest.last == 0 { rest.removeLast() }
            scramble += rest
        }
        authPluginData = scramble
        authPluginName = capabilities.contains(.pluginAuth)
            ? try payload.readMySQLNullTerminatedString(what: "the greeting's auth plugin name")
            : nil
    }

    /// Writes the payload (no frame header). The scramble length byte is the scramble size plus
    /// its NUL when `pluginAuth` is set, else 0; the second part is padded to 13 bytes. One byte
    /// cannot describe more than 254 scramble bytes: a longer scramble is cut to 254.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(Self.protocolVersion)
        buffer.writeMySQLNullTerminatedString(serverVersion)
        buffer.writeInteger(connectionID, endianness: .little)
        let first = authPluginData.prefix(8)
        buffer.writeBytes(first)
        buffer.writeMySQLZeros(8 - first.count + 1)
        buffer.writeInteger(UInt16(truncatingIfNeeded: capabilities.rawValue), endianness: .little)
        buffer.writeInteger(characterSet)
        buffer.writeInteger(statusFlags, endianness: .little)
        buffer.writeInteger(UInt16(truncatingIfNeeded: capabilities.rawValue >> 16), endianness: .little)
        let scramble = authPluginData.prefix(Int(UInt8.max) - 1)
        buffer.writeInteger(capabilities.contains(.pluginAuth) ? UInt8(scramble.count + 1) : 0)
        buffer.writeMySQLZeros(6)
        buffer.writeInteger(mariaDBExtendedCapabilities, endianness: .little)
        if capabilities.contains(.secureConnection) {
            let rest = scramble.dropFirst(8)
            buffer.writeBytes(rest)
            buffer.writeMySQLZeros(max(1, 13 - rest.count))
        }
        if capabilities.contains(.pluginAuth) {
            buffer.writeMySQLNullTerminatedString(authPluginName ?? "")
        }
    }
}
