import WirePostgres

@testable import LocalDBProxy

/// What the captured packets hold, written out by hand (see the fixtures' README).
enum Expected {
    /// The StartupMessage of `trustuser.client.bin`.
    static let trustuserStartup = PostgresStartupMessage(parameters: [
        PostgresStartupParameter(name: "user", value: "trustuser"),
        PostgresStartupParameter(name: "database", value: "appdb"),
        PostgresStartupParameter(name: "application_name", value: "psql"),
        PostgresStartupParameter(name: "client_encoding", value: "UTF8"),
    ])

    /// The length of that StartupMessage; Query and Terminate follow it.
    static let trustuserStartupLength = 82

    static let answerN: [UInt8] = [0x4E]
    static let answerS: [UInt8] = [0x53]
    static let protocolViolation = "08P01"
}
