import NIOCore

/// AuthSwitchRequest: 0xFE, the plugin name the client must switch to, then that plugin's data.
public struct MySQLAuthSwitchRequest: Sendable, Hashable {
    /// The first byte of an AuthSwitchRequest payload.
    public static let header: UInt8 = 0xFE

    /// The plugin to answer with, e.g. `mysql_native_password`.
    public var pluginName: String
    /// The plugin data exactly as sent (for the password plugins: the nonce and a NUL).
    public var pluginData: [UInt8]

    /// Creates a request.
    public init(pluginName: String, pluginData: [UInt8]) {
        self.pluginName = pluginName
        self.pluginData = pluginData
    }

    /// The nonce for the scramble: `pluginData` without one trailing NUL.
    public var nonce: [UInt8] {
        pluginData.last == 0 ? Array(pluginData.dropLast()) : pluginData
    }

    /// Parses an AuthSwitchRequest payload.
    public init(decoding payload: ByteBuffer) throws(MySQLWireError) {
        var payload = payload
        let header = try payload.readMySQLInteger(as: UInt8.self, what: "the AuthSwitchRequest header")
        guard header == Self.header else {
            throw MySQLWireError("AuthSwitchRequest starts with 0x\(String(header, radix: 16)), not 0xfe")
        }
        pluginName = try payload.readMySQLNullTerminatedString(what: "the AuthSwitchRequest plugin name")
        pluginData = payload.readBytes(length: payload.readableBytes) ?? []
    }

    /// Writes the payload (no frame header).
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(Self.header)
        buffer.writeMySQLNullTerminatedString(pluginName)
        buffer.writeBytes(pluginData)
    }
}
