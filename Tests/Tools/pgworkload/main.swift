#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Entry point: parse, connect, run one workload, print `result=ok` or `result=fail` and exit.
func runPGWorkload() -> Int32 {
    do {
        let invocation = try Invocation.parse(CommandLine.arguments)
        let connectWatch = Stopwatch()
        let connection = try PGConnection(conninfo: invocation.conninfo)
        Output.fact("connect_seconds", connectWatch.seconds)
        switch invocation.subcommand {
        case .prepared(let count):
            try PreparedWorkload(count: count).run(connection)
        case let .copyIn(megabytes, table, seed, keep):
            try CopyInWorkload(megabytes: megabytes, table: table, seed: seed, keep: keep).run(connection)
        case let .copyOut(table, keep):
            try CopyOutWorkload(table: table, keep: keep).run(connection)
        case .roundtrip:
            try RoundtripWorkload().run(connection)
        }
        Output.fact("result", "ok")
        return 0
    } catch {
        let message = "\(error)"
        Output.fact("result", "fail")
        Output.fact("error", message)
        Output.diagnostic("pgworkload: \(message)")
        if let failure = error as? Failure, failure.showsUsage {
            Output.diagnostic(Invocation.usage)
        }
        return 1
    }
}

exit(runPGWorkload())
