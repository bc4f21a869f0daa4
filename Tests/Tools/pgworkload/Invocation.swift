import WorkloadSupport
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
        var options = try SubcommandOptions(Array(arguments.dropFirst(3)), valueOptions: ["--count", "--megabytes", "--table", "--seed"])
        let subcommand: Subcommand
        switch arguments[2] {
        case "prepared":
            subcommand = .prepared(count: try options.integer("--count", default: 1000, minimum: 1))
        case "copy-in":
            subcommand = .copyIn(
                megabytes: try options.integer("--megabytes", default: 200, minimum: 0),
                table: try options.table(default: "pgworkload_copy"),
                seed: UInt64(try options.integer("--seed", default: 1, minimum: 0)),
                keep: options.flag("--keep")
            )
        case "copy-out":
            subcommand = .copyOut(table: try options.table(default: "pgworkload_copy"), keep: options.flag("--keep"))
        case "roundtrip":
            subcommand = .roundtrip
        default:
            throw Failure("unknown subcommand '\(arguments[2])'", showsUsage: true)
        }
        try options.rejectLeftovers()
        return Invocation(conninfo: arguments[1], subcommand: subcommand)
    }
}
