import NIOCore

/// Parses the NUL-terminated name/value pairs of a StartupMessage body.
enum PostgresStartupParametersParser {
    /// Reads pairs up to the final empty name, which must be the last byte of `body`.
    static func parse(_ body: inout ByteBuffer) throws(PostgresWireError) -> [PostgresStartupParameter] {
        var parameters: [PostgresStartupParameter] = []
        var seen: Set<String> = []
        while true {
            guard let name = try body.readPostgresCString(what: "a startup parameter name") else {
                throw PostgresWireError("startup parameters are not terminated by a NUL byte")
            }
            if name.isEmpty {
                guard body.readableBytes == 0 else {
                    throw PostgresWireError("\(body.readableBytes) bytes follow the startup parameter terminator")
                }
                return parameters
            }
            guard let value = try body.readPostgresCString(what: "the value of startup parameter '\(name)'") else {
                throw PostgresWireError("startup parameter '\(name)' has no NUL-terminated value")
            }
            guard seen.insert(name).inserted else {
                throw PostgresWireError("startup parameter '\(name)' is given more than once")
            }
            parameters.append(PostgresStartupParameter(name: name, value: value))
        }
    }
}
