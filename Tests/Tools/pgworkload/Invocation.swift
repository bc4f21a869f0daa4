/// The parsed command line: `pgworkload CONNINFO SUBCOMMAND [options]`.
struct Invocation {
    enum Subcommand {
        case prepared(count: Int)
        case copyIn(megabytes: Int, table: String, seed: UInt64, keep: Bool)
        case copyOut(table: String, keep: Bool)
        case roundtrip
    }

    static let usage = """
        usage: pgworkload CONNINFO SUBCOMMAND [options]
          prepared  [--count N]                                   (default N=1000)
          copy-in   [--megabytes M] [--table T] [--seed S] [--keep]   (default M=200, T=pgworkload_copy, S=1)
          copy-out  [--table T] [--keep]
          roundtrip
        Prints key=value lines; exits 0 only if every check passes.
        """

    let conninfo: String
    let subcommand: Subcommand

    static func parse(_ arguments: [String]) throws -> Invocation {
        guard arguments.count >= 3 else { throw Failure("missing arguments", showsUsage: true) }
        var options = try Options(Array(arguments.dropFirst(3)))
        let subcommand: Subcommand
        switch arguments[2] {
        case "prepared":
            subcommand = .prepared(count: try options.integer("--count", default: 1000, minimum: 1))
        case "copy-in":
            subcommand = .copyIn(
                megabytes: try options.integer("--megabytes", default: 200, minimum: 0),
                table: try options.table(),
                seed: UInt64(try options.integer("--seed", default: 1, minimum: 0)),
                keep: options.flag("--keep")
            )
        case "copy-out":
            subcommand = .copyOut(table: try options.table(), keep: options.flag("--keep"))
        case "roundtrip":
            subcommand = .roundtrip
        default:
            throw Failure("unknown subcommand '\(arguments[2])'", showsUsage: true)
        }
        try options.rejectLeftovers()
        return Invocation(conninfo: arguments[1], subcommand: subcommand)
    }
}

/// Hand-rolled option parsing: `--name value` pairs and bare `--flag`s, each consumed once.
private struct Options {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    private static let valueOptions: Set<String> = ["--count", "--megabytes", "--table", "--seed"]

    init(_ arguments: [String]) throws {
        var index = 0
        while index < arguments.count {
            let name = arguments[index]
            if Self.valueOptions.contains(name) {
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

    mutating func integer(_ name: String, default fallback: Int, minimum: Int) throws -> Int {
        guard let text = values.removeValue(forKey: name) else { return fallback }
        guard let value = Int(text), value >= minimum else {
            throw Failure("option \(name) needs an integer >= \(minimum), got '\(text)'")
        }
        return value
    }

    /// A table name, restricted to plain (optionally schema-qualified) identifiers so it can be spliced into SQL.
    mutating func table() throws -> String {
        let name = values.removeValue(forKey: "--table") ?? "pgworkload_copy"
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        let valid = parts.count <= 2 && parts.allSatisfy { part in
            guard let first = part.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
            return part.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        }
        guard valid else { throw Failure("option --table needs a plain identifier such as t200 or public.t200, got '\(name)'") }
        return name
    }

    mutating func flag(_ name: String) -> Bool {
        flags.remove(name) != nil
    }

    func rejectLeftovers() throws {
        let leftovers = values.keys.sorted() + flags.sorted()
        guard leftovers.isEmpty else {
            throw Failure("option(s) not valid for this subcommand: \(leftovers.joined(separator: ", "))", showsUsage: true)
        }
    }
}
