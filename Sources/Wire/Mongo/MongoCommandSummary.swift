/// What the router needs to know about a client's request.
public struct MongoCommandSummary: Equatable, Sendable {
    /// The command's name (the first key of the command document); nil for legacy CRUD opcodes
    /// and legacy OP_QUERY finds.
    public var commandName: String?
    /// The database the request addresses (`$db`, or the part of a collection name before '.').
    public var database: String?
    /// OP_MSG's moreToCome flag: the client expects no reply to this message. (Legacy writes
    /// get no reply either; their summary leaves this false.)
    public var moreToCome: Bool

    /// Creates a summary.
    public init(commandName: String? = nil, database: String? = nil, moreToCome: Bool = false) {
        self.commandName = commandName
        self.database = database
        self.moreToCome = moreToCome
    }
}
