/// A subcommand's options: `--name value` pairs (for the names in `valueOptions`) and bare
/// `--flag`s, each consumed once; what is left over is an error.
public struct SubcommandOptions {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    public init(_ arguments: [String], valueOptions: Set<String>) throws {
        var index = 0
        while index < arguments.count {
            let name = arguments[index]
            if valueOptions.contains(name) {
                guard index + 1 < arguments.count else { throw Failure("option \(name) needs a value") }
                values[name] = arguments[index + 1]
                index += 2
            } else {
                guard name.hasPrefix("--") else { throw Failure("unexpected argument '\(name)'", showsUsage: true) }
                flags.insert(name)
                index += 1
            }
        }
    }

    public mutating func integer(_ name: String, default fallback: Int, minimum: Int) throws -> Int {
        guard let text = values.removeValue(forKey: name) else { return fallback }
        guard let value = Int(text), value >= minimum else {
            throw Failure("option \(name) needs an integer >= \(minimum), got '\(text)'")
        }
        return value
    }

    /// `--table`, restricted to plain (optionally schema-qualified) identifiers so it can be
    /// spliced into SQL.
    public mutating func table(default fallback: String) throws -> String {
        let name = values.removeValue(forKey: "--table") ?? fallback
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        let valid = parts.count <= 2 && parts.allSatisfy { part in
            guard let first = part.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
            return part.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        }
        guard valid else { throw Failure("option --table needs a plain identifier such as t64 or app.t64, got '\(name)'") }
        return name
    }

    public mutating func flag(_ name: String) -> Bool {
        flags.remove(name) != nil
    }

    public func rejectLeftovers() throws {
        let leftovers = values.keys.sorted() + flags.sorted()
        guard leftovers.isEmpty else {
            throw Failure("option(s) not valid for this subcommand: \(leftovers.joined(separator: ", "))", showsUsage: true)
        }
    }
}
