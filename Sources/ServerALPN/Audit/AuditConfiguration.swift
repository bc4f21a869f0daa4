/// Where and what the router's audit log writes (the `audit:` section of the router YAML).
public struct AuditConfiguration: Sendable, Equatable {
    /// Where records go.
    public enum Destination: Sendable, Equatable {
        /// Appended to this file (created when missing).
        case file(String)
        /// Written to standard output (`file: "-"`).
        case standardOutput
    }

    public var destination: Destination
    /// Whether statements (SQL text, Mongo command names) are recorded too.
    public var statements: Bool
    /// How many records may wait for the writer; more are dropped and counted.
    public var queueCapacity: Int
    /// How much of one statement's text is kept (longer texts are cut and marked truncated).
    public var maximumStatementBytes: Int

    /// The default queue holds 10,000 records; statements keep 64 KiB of text.
    public static let defaultQueueCapacity = 10_000
    public static let defaultMaximumStatementBytes = 64 * 1024

    public init(
        destination: Destination, statements: Bool = false, queueCapacity: Int = AuditConfiguration.defaultQueueCapacity,
        maximumStatementBytes: Int = AuditConfiguration.defaultMaximumStatementBytes
    ) {
        self.destination = destination
        self.statements = statements
        self.queueCapacity = max(1, queueCapacity)
        self.maximumStatementBytes = max(0, maximumStatementBytes)
    }
}
