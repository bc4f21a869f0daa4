/// A malformed or unacceptable MySQL protocol packet, with a message a person can act on.
public struct MySQLWireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong, in plain words.
    public var message: String

    /// Creates an error carrying `message`.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "MySQL protocol error: \(message)" }
}
