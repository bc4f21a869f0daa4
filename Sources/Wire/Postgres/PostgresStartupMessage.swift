import NIOCore

/// A StartupMessage: protocol version and parameters, the first plain-text packet of a session.
public struct PostgresStartupMessage: Sendable, Hashable {
    /// The protocol version the client asked for.
    public var protocolVersion: PostgresProtocolVersion
    /// The parameters in wire order. Names are unique in decoded messages.
    public var parameters: [PostgresStartupParameter]

    /// Creates a StartupMessage.
    public init(protocolVersion: PostgresProtocolVersion = .v3_0, parameters: [PostgresStartupParameter]) {
        self.protocolVersion = protocolVersion
        self.parameters = parameters
    }

    /// The value of the first parameter called `name`; setting replaces it in place or appends,
    /// setting nil removes every parameter of that name.
    public subscript(name: String) -> String? {
        get { parameters.first { $0.name == name }?.value }
        set {
            guard let newValue else {
                parameters.removeAll { $0.name == name }
                return
            }
            if let index = parameters.firstIndex(where: { $0.name == name }) {
                parameters[index].value = newValue
            } else {
                parameters.append(PostgresStartupParameter(name: name, value: newValue))
            }
        }
    }

    /// The `user` parameter (required by servers).
    public var user: String? { self["user"] }

    /// The `database` parameter; servers default it to the user name when absent.
    public var database: String? { self["database"] }

    /// Writes the whole packet: length, version, NUL-terminated name/value pairs, final NUL.
    public func write(into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        buffer.writeInteger(protocolVersion.code)
        for parameter in parameters {
            buffer.writePostgresCString(parameter.name)
            buffer.writePostgresCString(parameter.value)
        }
        buffer.writeInteger(UInt8(0))
        buffer.setInteger(Int32(buffer.writerIndex - start), at: start)
    }
}
