import NIOCore

/// The client's login packet (protocol 4.1): who it is, its scramble answer, and the optional
/// database, plugin name and connection attributes its capabilities announce.
public struct MySQLHandshakeResponse41: Sendable, Hashable {
    /// The client's capability flags; they also decide which fields follow.
    public var capabilities: MySQLCapabilities
    /// The largest packet the client wants to receive.
    public var maxPacketSize: UInt32
    /// The client's collation id.
    public var characterSet: UInt8
    /// MariaDB's extended client capabilities: the last 4 of the 23 filler bytes.
    public var mariaDBExtendedCapabilities: UInt32
    /// The database user name.
    public var username: String
    /// The answer to the scramble (empty for an empty password).
    public var authResponse: [UInt8]
    /// The initial database; written only when `connectWithDB` is set.
    public var database: String?
    /// The plugin `authResponse` was made with; written only when `pluginAuth` is set.
    public var authPluginName: String?
    /// Connection attributes in wire order; written only when `connectAttrs` is set.
    public var connectAttributes: [MySQLConnectAttribute]?
    /// The zstd compression level, when `zstdCompressionAlgorithm` is set and the byte is present.
    public var zstdCompressionLevel: UInt8?

    /// Creates a response.
    public init(
        capabilities: MySQLCapabilities, maxPacketSize: UInt32, characterSet: UInt8, mariaDBExtendedCapabilities: UInt32 = 0,
        username: String, authResponse: [UInt8], database: String? = nil, authPluginName: String? = nil,
        connectAttributes: [MySQLConnectAttribute]? = nil, zstdCompressionLevel: UInt8? = nil
    ) {
        self.capabilities = capabilities
        self.maxPacketSize = maxPacketSize
        self.characterSet = characterSet
        self.mariaDBExtendedCapabilities = mariaDBExtendedCapabilities
        self.username = username
        self.authResponse = authResponse
        self.database = database
        self.authPluginName = authPluginName
        self.connectAttributes = connectAttributes
        self.zstdCompressionLevel = zstdCompressionLevel
    }

    /// Parses a HandshakeResponse41 payload. Optional trailing fields the capabilities announce
    /// may be absent at the end of the packet (some clients omit them); once present they must be
    /// whole. Bytes after the last known field are ignored.
    public init(decoding payload: ByteBuffer) throws(MySQLWireError) {
        var payload = payload
        let prefix = try MySQLClientPrefix(reading: &payload)
        capabilities = prefix.capabilities
        maxPacketSize = prefix.maxPacketSize
        characterSet = prefix.characterSet
        mariaDBExtendedCapabilities = prefix.mariaDBExtendedCapabilities
        username = try payload.readMySQLNullTerminatedString(what: "the user name")
        authResponse = try Self.readAuthResponse(&payload, capabilities: prefix.capabilities)
        database = nil
        authPluginName = nil
        connectAttributes = nil
        zstdCompressionLevel = nil
        if capabilities.contains(.connectWithDB), payload.readableBytes > 0 {
            database = try payload.readMySQLNullTerminatedString(what: "the database name")
        }
        if capabilities.contains(.pluginAuth), payload.readableBytes > 0 {
            authPluginName = try payload.readMySQLNullTerminatedString(what: "the auth plugin name")
        }
        if capabilities.contains(.connectAttrs), payload.readableBytes > 0 {
            connectAttributes = try Self.readAttributes(&payload)
        }
        if capabilities.contains(.zstdCompressionAlgorithm) {
            zstdCompressionLevel = payload.readInteger(as: UInt8.self)
        }
    }

    /// Writes the payload (no frame header); the auth response is length-encoded with
    /// `pluginAuthLenencClientData`, else has a 1-byte length with `secureConnection` (cut to 255
    /// bytes), else is NUL-terminated.
    public func write(into buffer: inout ByteBuffer) {
        MySQLClientPrefix(
            capabilities: capabilities, maxPacketSize: maxPacketSize, characterSet: characterSet,
            mariaDBExtendedCapabilities: mariaDBExtendedCapabilities
        ).write(into: &buffer)
        buffer.writeMySQLNullTerminatedString(username)
        if capabilities.contains(.pluginAuthLenencClientData) {
            buffer.writeMySQLLengthEncodedBytes(authResponse)
        } else if capabilities.contains(.secureConnection) {
            let response = authResponse.prefix(255)
            buffer.writeInteger(UInt8(response.count))
            buffer.writeBytes(response)
        } else {
            buffer.writeBytes(authResponse)
            buffer.writeInteger(UInt8(0))
        }
        if capabilities.contains(.connectWithDB), let database {
            buffer.writeMySQLNullTerminatedString(database)
        }
        if capabilities.contains(.pluginAuth), let authPluginName {
            buffer.writeMySQLNullTerminatedString(authPluginName)
        }
        if capabilities.contains(.connectAttrs), let connectAttributes {
            var attributes = ByteBuffer()
            for attribute in connectAttributes {
                attributes.writeMySQLLengthEncodedString(attribute.key)
                attributes.writeMySQLLengthEncodedString(attribute.value)
            }
            buffer.writeMySQLLengthEncodedInteger(UInt64(attributes.readableBytes))
            buffer.writeBuffer(&attributes)
        }
        if capabilities.contains(.zstdCompressionAlgorithm), let zstdCompressionLevel {
            buffer.writeInteger(zstdCompressionLevel)
        }
    }

    private static func readAuthResponse(
        _ payload: inout ByteBuffer, capabilities: MySQLCapabilities
    ) throws(MySQLWireError) -> [UInt8] {
        if capabilities.contains(.pluginAuthLenencClientData) {
            guard let bytes = try payload.readMySQLLengthEncodedBytes() else {
                throw MySQLWireError("the auth response is NULL")
            }
            return bytes
        }
        if capabilities.contains(.secureConnection) {
            let length = try payload.readMySQLInteger(as: UInt8.self, what: "the auth response length")
            return try payload.readMySQLBytes(length: Int(length), what: "the auth response")
        }
        return try payload.readMySQLNullTerminatedBytes(what: "the auth response")
    }

    private static func readAttributes(_ payload: inout ByteBuffer) throws(MySQLWireError) -> [MySQLConnectAttribute] {
        guard let length = try payload.readMySQLLengthEncodedInteger() else {
            throw MySQLWireError("the connection attributes length is NULL")
        }
        guard length <= UInt64(payload.readableBytes), var block = payload.readSlice(length: Int(length)) else {
            throw MySQLWireError("connection attributes claim \(length) bytes; \(payload.readableBytes) are left")
        }
        var attributes: [MySQLConnectAttribute] = []
        while block.readableBytes > 0 {
            guard let key = try block.readMySQLLengthEncodedString(), let value = try block.readMySQLLengthEncodedString() else {
                throw MySQLWireError("a connection attribute is NULL")
            }
            attributes.append(MySQLConnectAttribute(key: key, value: value))
        }
        return attributes
    }
}
