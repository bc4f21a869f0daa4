/// One connection attribute a client sends (`_client_name`, `program_name`, ...), in wire order.
public struct MySQLConnectAttribute: Sendable, Hashable {
    public var key: String
    public var value: String

    /// Creates an attribute.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
