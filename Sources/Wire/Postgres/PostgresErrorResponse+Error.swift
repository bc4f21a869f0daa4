/// An ErrorResponse can be thrown or carried in a `Result` until it is written to the client.
extension PostgresErrorResponse: Error, CustomStringConvertible {
    /// `SEVERITY SQLSTATE: message`, then detail and hint when set.
    public var description: String {
        var text = "\(severity.rawValue) \(sqlState): \(message)"
        if let detail { text += " (detail: \(detail))" }
        if let hint { text += " (hint: \(hint))" }
        return text
    }
}
