/// One name/value pair of a StartupMessage (`user`, `database`, `application_name`, ...).
public struct PostgresStartupParameter: Sendable, Hashable {
    /// The parameter name, e.g. `user`.
    public var name: String
    /// The parameter value.
    public var value: String

    /// Creates a parameter.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
