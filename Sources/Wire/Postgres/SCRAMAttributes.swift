/// The `a=value` attribute list of a SCRAM message (RFC 5802 section 5), in order.
struct SCRAMAttributes {
    /// The attributes as (letter, value) pairs, in message order.
    var pairs: [(name: Character, value: String)]

    /// Splits `message` at commas; every part must be one ASCII letter, `=`, and a value.
    init(parsing message: String, what: String) throws(PostgresWireError) {
        guard !message.isEmpty else { throw PostgresWireError("SCRAM \(what) is empty") }
        pairs = []
        for part in message.split(separator: ",", omittingEmptySubsequences: false) {
            guard part.count >= 2,
                  let name = part.first, name.isASCII, name.isLetter,
                  part[part.index(after: part.startIndex)] == "="
            else {
                throw PostgresWireError("SCRAM \(what) has a malformed attribute '\(part)'")
            }
            pairs.append((name, String(part.dropFirst(2))))
        }
    }

    /// The value of the attribute at `position`, which must be called `name`.
    func require(_ name: Character, at position: Int, what: String) throws(PostgresWireError) -> String {
        guard position < pairs.count, pairs[position].name == name else {
            throw PostgresWireError("SCRAM \(what) lacks the '\(name)=' attribute in position \(position + 1)")
        }
        let value = pairs[position].value
        guard !value.isEmpty else {
            throw PostgresWireError("SCRAM \(what) has an empty '\(name)=' attribute")
        }
        return value
    }
}
